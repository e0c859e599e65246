"""The SQL of the Umami CSV import: staged Umami rows → Medama's views and events (docs/data.md#import).

Each statement reads the temporary tables `umami_csv.import_umami` stages (umami_rows, sessions, the map_*
vocabularies, umami_data_raw) and skips what is already stored, so importing a file twice adds nothing.
"""

from __future__ import annotations

__all__ = ["UMAMI_DATA", "UMAMI_EVENTS", "UMAMI_EVENT_DATA", "UMAMI_VIEWS"]

UMAMI_VIEWS = """
INSERT INTO views
SELECT e.event_id, $hostname, e.url_path,
    -- Medama's unique flags: the visitor's first page view of the UTC day, and its first of this page that day
    row_number() OVER (PARTITION BY e.session_id, CAST(e.created AS DATE) ORDER BY e.created, e.event_id) = 1,
    row_number() OVER (
        PARTITION BY e.session_id, CAST(e.created AS DATE), e.url_path ORDER BY e.created, e.event_id
    ) = 1,
    nullif(e.referrer_domain, ''), NULL,
    coalesce(c.v, $unknown), coalesce(l.base, $unknown), coalesce(l.dialect, $unknown),
    coalesce(b.v, $unknown), coalesce(o.v, $unknown), coalesce(d.v, $unknown),
    nullif(e.utm_source, ''), nullif(e.utm_medium, ''), nullif(e.utm_campaign, ''),
    -- time until the visit's next page view; the last page of a visit has no known duration (NULL)
    CASE WHEN e.next_at IS NOT NULL
        THEN CAST(least(epoch_ms(e.next_at) - epoch_ms(e.created), 4294967295) AS UINTEGER) END,
    e.created
FROM (
    SELECT *, lead(created) OVER (PARTITION BY coalesce(visit_id, session_id) ORDER BY created, event_id) AS next_at
    FROM umami_rows WHERE event_type = '1'
) AS e
LEFT JOIN sessions AS s ON s.session_id = e.session_id
LEFT JOIN map_browser AS b ON b.k = lower(s.browser)
LEFT JOIN map_os AS o ON o.k = lower(s.os)
LEFT JOIN map_device AS d ON d.k = lower(s.device)
LEFT JOIN map_country AS c ON c.k = upper(s.country)
LEFT JOIN map_language AS l ON l.k = s.language
WHERE NOT EXISTS (SELECT 1 FROM views AS v WHERE v.bid = e.event_id AND v.hostname = $hostname)
"""

# A named custom event, tied (bid) to the page view it happened on: its visit's latest page view at or before
# it, as Medama's tracker ties an event to its page load (and Medama's property report counts only those).
UMAMI_EVENTS = """
CREATE OR REPLACE TEMP TABLE umami_named AS
SELECT e.event_id, e.event_name, e.created, v.event_id AS bid
FROM (SELECT *, coalesce(visit_id, session_id) AS visit FROM umami_rows
      WHERE event_type = '2' AND coalesce(event_name, '') <> '') AS e
ASOF LEFT JOIN (SELECT event_id, created, coalesce(visit_id, session_id) AS visit FROM umami_rows
                WHERE event_type = '1') AS v
    ON v.visit = e.visit AND e.created >= v.created;
INSERT INTO events (batch_id, group_name, name, value, date_created, bid)
SELECT e.event_id, $hostname, $event_key, e.event_name, e.created, e.bid
FROM umami_named AS e
WHERE NOT EXISTS (SELECT 1 FROM events AS x WHERE x.batch_id = e.event_id AND x.group_name = $hostname)
"""


# One row per event_data row of the website, with Medama's text of its value and why it cannot be used, if so.
# Umami writes every value's text to string_value; a file without it still has the typed column to fall back on
# (a number's NUMERIC(19,4) text loses its trailing zeros: 42.5000 -> 42.5). Types: 1 string, 2 number,
# 3 boolean, 4 date, 5 array (JSON text).
UMAMI_DATA = """
CREATE OR REPLACE TEMP TABLE umami_data AS
WITH typed AS (
    SELECT d.event_data_id, d.website_event_id, d.data_key, d.data_type,
        coalesce(nullif(d.string_value, ''), CASE
            WHEN d.data_type = '2' AND contains(d.number_value, '.')
                THEN rtrim(rtrim(d.number_value, '0'), '.')
            WHEN d.data_type = '2' THEN nullif(d.number_value, '')
            WHEN d.data_type = '4' THEN nullif(d.date_value, '')
        END) AS value,
        count(*) OVER (PARTITION BY d.website_event_id, d.data_key) AS same_key
    FROM umami_data_raw AS d
    WHERE $website IS NULL OR d.website_id = $website
)
SELECT t.*, e.event_type, e.created, e.bid,
    CASE
        WHEN coalesce(t.data_key, '') = '' THEN 'no data_key'
        WHEN t.data_type NOT IN ('1', '2', '3', '4', '5') OR t.data_type IS NULL THEN 'data_type is not 1 to 5'
        WHEN t.value IS NULL THEN 'no value for its data_type'
        WHEN t.same_key > 1 THEN 'its event has this data_key more than once'
        WHEN e.event_id IS NULL THEN 'its website_event_id is not a page view or named event of the import'
        WHEN e.event_type = '2' AND t.data_key = $event_key THEN 'data_key ''event'' holds the event name in Medama'
    END AS problem
FROM typed AS t
LEFT JOIN (
    SELECT event_id, '1' AS event_type, min(created) AS created, any_value(event_id) AS bid FROM umami_rows
    WHERE event_type = '1' GROUP BY event_id
    UNION ALL
    SELECT event_id, '2', min(created), any_value(bid) FROM umami_named GROUP BY event_id
) AS e ON e.event_id = t.website_event_id
"""

# A custom event's values join its `event` row (batch_id = event_id, the same page view); a page view's form a
# batch of their own tied to the view, as /umami/api/send stores them. Present = the same batch, site and key.
UMAMI_EVENT_DATA = """
INSERT INTO events (batch_id, group_name, name, value, date_created, bid)
SELECT d.website_event_id, $hostname, d.data_key, d.value, d.created, d.bid
FROM umami_data AS d
WHERE d.problem IS NULL AND NOT EXISTS (
    SELECT 1 FROM events AS x WHERE x.batch_id = d.website_event_id AND x.group_name = $hostname AND x.name = d.data_key
)
"""
