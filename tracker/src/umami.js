// @ts-check
/*
 * medama_py's tracker for Umami-style snippets, served as /umami/script.js (docs/umami.md).
 * Written for medama_py; it behaves as Umami's documented tracker does, so a site can keep its
 * snippet, its umami.track()/umami.identify() calls and its data-umami-event buttons:
 *
 *   <script defer src="https://stats.example/umami/script.js" data-website-id="<uuid>"></script>
 *
 * Privacy as in Medama's tracker: no cookies, no storage API. The visit token the server answers
 * (`cache`) lives in a variable, so it ends with the page. Unlike Umami's tracker, each page view
 * first asks Medama's two pings (/api/event/ping), whose HTTP-cache answers say whether the browser
 * and the page are new today (`p`, `q`), and sends the time zone (`tz`) for the country.
 *
 * Nothing here may throw on a customer's page: a missing fetch, a dead server or a bad answer
 * only loses data. The output is ES5 syntax.
 */

/**
 * What Umami's /api/send takes in `payload`.
 * @typedef {object} Payload
 * @property {string} website
 * @property {string} [hostname]
 * @property {string} [language]
 * @property {string} [referrer]
 * @property {string} [screen]
 * @property {string} [title]
 * @property {string} [url]
 * @property {string} [tag]
 * @property {string} [id] distinct id from umami.identify()
 * @property {string} [name] custom event name (absent for a page view)
 * @property {object} [data]
 * @property {string} [tz] IANA time zone (medama_py)
 * @property {boolean} [p] new visitor today, from Medama's ping (medama_py)
 * @property {boolean} [q] new page today, from Medama's ping (medama_py)
 */

(function () {
	var win = window;
	var doc = document;
	var nav = navigator;
	var loc = location;
	var script = /** @type {HTMLScriptElement | null} */ (doc.currentScript);
	if (!script || !win.fetch) return;

	/** @param {string} name */
	function attr(name) {
		return (/** @type {HTMLScriptElement} */ (script)).getAttribute('data-' + name);
	}
	var website = attr('website-id') || '';
	// https://stats.example/umami/script.js -> https://stats.example/umami
	var host = (attr('host-url') || script.src.split('/').slice(0, -1).join('/')).replace(/\/$/, '');
	var endpoint = host + '/api/send';
	// Medama's ping sits at the server's root, beside /umami.
	var pingUrl = host.replace(/\/umami$/, '') + '/api/event/ping';
	var tag = attr('tag') || undefined;
	var domains = (attr('domains') || '').split(',').map(function (d) {
		return d.trim();
	});
	var excludeSearch = attr('exclude-search') == 'true';
	var excludeHash = attr('exclude-hash') == 'true';
	var beforeSend = attr('before-send');
	var dnt = nav.doNotTrack || /** @type {any} */ (win).doNotTrack || /** @type {any} */ (nav).msDoNotTrack;
	var disabled =
		!website ||
		(attr('do-not-track') != null && (dnt == '1' || dnt == 'yes')) ||
		(domains[0] != '' && domains.indexOf(loc.hostname) < 0);

	/** The visit token of this page; never stored anywhere else. */
	var cache = '';
	/** Distinct id set by umami.identify(). */
	var identity = /** @type {string | undefined} */ (undefined);
	/** Sends go one after the other, so each carries the token the previous answer gave. */
	var queue = Promise.resolve();
	/** First page view of the document asks the visitor ping too. */
	var first = true;

	/** @returns {string} the page URL without what data-exclude-* leaves out */
	function pageUrl() {
		var url = loc.href;
		if (excludeHash) url = url.split('#')[0];
		if (excludeSearch) url = url.replace(/\?[^#]*/, '');
		return url;
	}
	var currentUrl = pageUrl();
	var currentRef = doc.referrer;

	/** @returns {Payload} what Umami's tracker sends for the current page */
	function defaults() {
		var zone = '';
		try {
			zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
		} catch (e) {}
		return {
			website: website,
			hostname: loc.hostname,
			screen: screen.width + 'x' + screen.height,
			language: nav.language,
			title: doc.title,
			url: currentUrl,
			referrer: currentRef,
			tag: tag,
			id: identity,
			tz: zone,
		};
	}

	/**
	 * Posts one hit after the previous ones; keeps the token the server answers.
	 * @param {Payload | false | null | undefined} payload
	 * @param {string} [type]
	 */
	function send(payload, type) {
		type = type || 'event';
		var hook = beforeSend && /** @type {any} */ (win)[beforeSend];
		if (disabled || !payload) return queue;
		if (typeof hook == 'function') payload = hook(type, payload);
		if (!payload) return queue;
		var body = JSON.stringify({ type: type, payload: payload });
		return (queue = queue.then(function () {
			/** @type {Record<string, string>} */
			var headers = { 'Content-Type': 'application/json' };
			if (cache) headers['x-umami-cache'] = cache;
			return fetch(endpoint, { method: 'POST', body: body, headers: headers, keepalive: true, credentials: 'omit' })
				.then(function (res) {
					return res.json();
				})
				.then(function (answer) {
					if (answer && typeof answer.cache == 'string') cache = answer.cache;
				})
				['catch'](function () {});
		}));
	}

	/**
	 * Medama's ping: "0" means new today. A failure counts as not new.
	 * @param {string} query
	 * @returns {Promise<boolean>}
	 */
	function ping(query) {
		return fetch(pingUrl + query, { credentials: 'omit' })
			.then(function (res) {
				return res.text();
			})
			.then(function (text) {
				return text.trim() == '0';
			})
			['catch'](function () {
				return false;
			});
	}

	/**
	 * A page view with Medama's unique-visitor and unique-page answers.
	 * @param {Payload} payload
	 */
	function pageview(payload) {
		var visitor = first ? ping('') : Promise.resolve(false);
		var where = loc.host + loc.pathname;
		first = false;
		return visitor.then(function (p) {
			return ping('?u=' + encodeURIComponent(where)).then(function (q) {
				payload.p = p;
				payload.q = q;
				return send(payload);
			});
		});
	}

	/**
	 * umami.track(): no argument (page view), 'name', ('name', data), an object, or a function of
	 * the default payload.
	 * @param {string | object | ((defaults: Payload) => Payload) | undefined} [what]
	 * @param {object} [data]
	 */
	function track(what, data) {
		var base = defaults();
		if (typeof what == 'string') {
			base.name = what;
			base.data = typeof data == 'object' ? data : undefined;
			return send(base);
		}
		if (typeof what == 'function') return send(what(base));
		if (what && typeof what == 'object') return send(/** @type {Payload} */ (assign(assign({}, base), what)));
		return disabled ? queue : pageview(base);
	}

	/**
	 * @param {any} into
	 * @param {any} from
	 */
	function assign(into, from) {
		for (var key in from) if (Object.prototype.hasOwnProperty.call(from, key)) into[key] = from[key];
		return into;
	}

	/**
	 * umami.identify(id, data) or identify(data): later hits carry the id, which names the session.
	 * @param {string | object} id
	 * @param {object} [data]
	 */
	function identify(id, data) {
		if (typeof id == 'string') identity = id;
		cache = '';
		var payload = defaults();
		payload.data = typeof id == 'object' ? id : data;
		return send(payload, 'identify');
	}

	/** An SPA navigation: a page view when the tracked URL changed. */
	function navigated() {
		var url = pageUrl();
		if (url != currentUrl) {
			currentRef = currentUrl;
			currentUrl = url;
			track();
		}
	}

	/** A click on (or inside) an element with data-umami-event is that event, with its data-umami-event-* properties. */
	/** @param {Event} event */
	function clicked(event) {
		var el = /** @type {Element | null} */ (event.target);
		while (el && el.getAttribute && !el.getAttribute('data-umami-event')) el = el.parentElement;
		if (!el || !el.getAttribute) return;
		/** @type {Record<string, string>} */
		var props = {};
		for (var i = 0; i < el.attributes.length; i++) {
			var match = el.attributes[i].name.match(/^data-umami-event-(.+)/);
			if (match) props[match[1]] = el.attributes[i].value;
		}
		track(/** @type {string} */ (el.getAttribute('data-umami-event')), props);
	}

	/** @type {any} */ (win).umami = { track: track, identify: identify };

	if (attr('auto-track') != 'false') {
		['pushState', 'replaceState'].forEach(function (name) {
			/** @type {any} */
			var methods = history;
			var original = methods[name];
			methods[name] = function () {
				var result = original.apply(this, arguments);
				navigated();
				return result;
			};
		});
		addEventListener('popstate', navigated);
		doc.addEventListener('click', clicked, true);
		track();
	}
})();
