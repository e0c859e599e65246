// @ts-check
/*
 * medama_py tracker: a cookie-free page view tracker speaking Medama's wire protocol
 * (docs/tracker.md). It sets no cookies, touches no storage API and reads nothing that
 * could fingerprint a browser. A returning visitor is recognised only by the browser's
 * HTTP cache of the two ping URLs, which the server makes expire at the next UTC midnight.
 *
 * Build flags (replaced by scripts/build.mjs, dead branches are dropped by terser):
 *   CLICK_EVENTS  send `custom` events for clicks inside elements tagged data-m:click
 *   PAGE_EVENTS   add `d` to every load event, merged from elements tagged data-m:load
 *
 * Nothing here may throw on a customer's page. The output is ES5 syntax, so every browser
 * parses it, and the script runs only where navigator.sendBeacon exists (every browser
 * since 2018); that also guarantees the rest it uses: currentScript, XHR loadend, Intl.
 * Older browsers are simply not tracked.
 */

/**
 * Page view, sent after the two pings.
 * @typedef {object} LoadPayload
 * @property {string} b beacon id of this page view
 * @property {"load"} e
 * @property {string} u page URL (the fragment only in hash mode)
 * @property {string} r referrer: document.referrer, or the previous URL after an SPA navigation
 * @property {boolean} p unique visitor today (first page view of the document only)
 * @property {boolean} q unique page today
 * @property {string} t IANA time zone, "" when the browser has no Intl
 * @property {Record<string, string>} [d] data-m:load properties (page-events builds only)
 */

/**
 * Time on page, sent once per page view.
 * @typedef {object} UnloadPayload
 * @property {string} b beacon id of the page view it ends
 * @property {"unload"} e
 * @property {number} m milliseconds, always >= 1 (the server rejects 0)
 */

/**
 * Click properties (click-events builds only).
 * @typedef {object} CustomPayload
 * @property {string} b beacon id of the current page view
 * @property {"custom"} e
 * @property {string} g group: the page hostname, a registered website
 * @property {Record<string, string>} d data-m:click properties, never empty
 */

(function () {
	var doc = document;
	// currentScript is null in a module script: do nothing there either.
	var script = /** @type {HTMLScriptElement | null} */ (doc.currentScript);
	if (!script || !navigator.sendBeacon) return;

	var loc = location;
	// Any data-hash turns hash mode on, a bare one too (Medama needs a non-empty value).
	var hashMode = script.hasAttribute('data-hash');
	var apiHost = script.getAttribute('data-api');
	// data-api is "host[:port][/path]" on the page's scheme (a scheme-relative URL); otherwise
	// the API sits beside the script: https://stats.example/script.js -> https://stats.example/api/
	// A variant loaded directly, .../scripts/click-events.js, finds the same API (Medama used
	// .../scripts/api/, which does not exist).
	var api = (apiHost ? '//' + apiHost + '/' : script.src.replace(/\/(scripts\/)?[^/]*$/, '/api/')) + 'event/';
	var pingUrl = api + 'ping';
	var hitUrl = api + 'hit';

	/** Beacon id of the current page view. */
	var bid = '';
	/** When the current page view started (ms); 0 once its unload has been sent. */
	var startedAt = 0;
	/** The tracked page: host and path, plus the fragment in hash mode. */
	var currentPage = '';
	/** URL of the tracked page view, the referrer of the next SPA page view. */
	var currentUrl = '';

	/**
	 * A ping: a plain XHR GET, so it is a CORS simple request (no preflight) whose answer can be
	 * read. loadend also follows a network or CORS error, so the chain goes on: the view is
	 * still recorded, counted as not unique.
	 * @param {string} url
	 * @param {(unique: boolean) => void} done gets whether the answer was "0" (unique)
	 */
	function ping(url, done) {
		var xhr = new XMLHttpRequest();
		xhr.open('GET', url);
		xhr.onloadend = function () {
			done(xhr.responseText == '0');
		};
		xhr.send();
	}

	/**
	 * sendBeacon survives the page going away, and its string body goes out as text/plain, so
	 * there is no CORS preflight. Its answer is never read.
	 * @param {LoadPayload | UnloadPayload | CustomPayload} payload
	 */
	function send(payload) {
		navigator.sendBeacon(hitUrl, JSON.stringify(payload));
	}

	/**
	 * Merges the "k=v;k2=v2" pairs of an element's data-m:<name> attribute into `into`.
	 * Like Medama: `a=b=c` gives a=b, whitespace is trimmed, empty keys or values are dropped.
	 * @param {Element} element
	 * @param {string} name
	 * @param {Record<string, string>} into
	 * @returns {boolean} whether any pair was found
	 */
	function readProperties(element, name, into) {
		var found = false;
		(element.getAttribute('data-m:' + name) || '').split(';').forEach(function (pair) {
			var parts = pair.split('=');
			var key = parts[0].trim();
			var value = (parts[1] || '').trim();
			if (key && value) found = !!(into[key] = value);
		});
		return found;
	}

	/** @returns {string} host and path, plus the fragment in hash mode */
	function page() {
		return loc.host + loc.pathname + (hashMode ? loc.hash : '');
	}

	/** Sends the unload of the current page view, at most once. */
	function unload() {
		if (startedAt) {
			send({ b: bid, e: 'unload', m: Date.now() - startedAt || 1 });
			startedAt = 0;
		}
	}

	/**
	 * Starts a page view and records it: [visitor ping], page ping, then the load event.
	 * What describes the view is captured first, so a navigation while the pings are in
	 * flight cannot mix two page views.
	 * @param {boolean} [first] only the first page view of a document asks the visitor ping
	 */
	function pageview(first) {
		// Not cryptographic on purpose: it only joins this view's events for a few minutes.
		var id = (bid = (startedAt = Date.now()).toString(36) + Math.random().toString(36).slice(2));
		// After an SPA navigation the previous page is the referrer, as on a multi-page site.
		var ref = first ? doc.referrer : currentUrl;
		// History mode tracks paths, so a fragment is not part of the page (nor of its stored path).
		var url = (currentUrl = hashMode ? loc.href : loc.href.split('#')[0]);
		var where = (currentPage = page());

		/** @param {boolean} isUniqueUser */
		function load(isUniqueUser) {
			ping(pingUrl + '?u=' + encodeURIComponent(where), function (isUniquePage) {
				/** @type {LoadPayload} */
				var payload = {
					b: id,
					e: 'load',
					u: url,
					r: ref,
					p: isUniqueUser,
					q: isUniquePage,
					t: Intl.DateTimeFormat().resolvedOptions().timeZone,
				};
				if (PAGE_EVENTS) {
					/** @type {Record<string, string>} */
					var props = {};
					// Read when sent, in document order, so elements an SPA renders late are included.
					var tagged = doc.querySelectorAll('[data-m\\:load]');
					for (var i = 0; i < tagged.length; i++) readProperties(tagged[i], 'load', props);
					payload.d = props;
				}
				send(payload);
			});
		}

		if (first) ping(pingUrl, load);
		else load(false);
	}

	/** An SPA navigation to another page ends the current page view and starts the next one. */
	function navigate() {
		if (page() != currentPage) {
			unload();
			pageview();
		}
	}

	// pushState and replaceState fire no event, so they are wrapped (both return undefined).
	['pushState', 'replaceState'].forEach(function (name) {
		/** @type {any} */
		var methods = history;
		/** @type {Function} */
		var original = methods[name];
		methods[name] = function () {
			original.apply(this, arguments);
			navigate();
		};
	});
	// popstate covers the back and forward buttons and, since browsers fire it for every fragment
	// navigation too (HTML spec), the hash routes; pageshow covers a page restored from the
	// back/forward cache. navigate() ignores those that leave the tracked page as it is.
	addEventListener('popstate', navigate);
	addEventListener('pageshow', navigate);

	// The page view ends when the page is hidden or left, whichever comes first.
	addEventListener('pagehide', function () {
		unload();
		// If the page comes back from the back/forward cache, its pageshow is a new page view.
		currentPage = '';
	});
	// visibilitychange bubbles from the document to the window.
	addEventListener('visibilitychange', function () {
		if (doc.hidden) unload();
	});

	if (CLICK_EVENTS) {
		// One listener on the document: it sees clicks on elements added after load, and on any
		// child of a tagged element. Capture, so a stopPropagation in the page does not hide it.
		/** @param {MouseEvent} event */
		var onClick = function (event) {
			/** @type {Record<string, string>} */
			var props = {};
			var node = /** @type {any} */ (event.target);
			// Left (0) and middle (1) buttons; the right button opens a menu, not a link.
			if (event.button < 2)
				for (; node && node.getAttribute; node = node.parentNode)
					if (readProperties(node, 'click', props)) return send({ b: bid, e: 'custom', g: loc.hostname, d: props });
		};
		doc.addEventListener('click', onClick, true);
		doc.addEventListener('auxclick', onClick, true);
	}

	pageview(true);
})();
