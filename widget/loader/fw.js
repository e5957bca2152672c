/*! Floorwalker loader. Keeps floorwalker(...) calls made before load, waits for the page to be
 * idle, fetches the site config and starts the wasm widget. Any failure leaves the page untouched
 * and logs one warning. The build replaces __FW_GLUE__, __FW_WASM__ (the widget) and
 * __FW_UI_GLUE__, __FW_UI_WASM__ (the UI module: the prompt cards, loaded when a card is near, and
 * the chat's chunk, fetched by the module when the chat opens) with hashed file names. */
(function (w, d) {
  'use strict';
  // currentScript is null when the tag is run by some tag managers; find the tag by its attributes then.
  var script = d.currentScript || d.querySelector('script[data-site][src*="fw.js"]');
  if (!script || w.__floorwalker) return;
  w.__floorwalker = 1;
  var site = script.getAttribute('data-site');
  var base = new URL(script.src, d.baseURI).origin;
  var queue = w.floorwalker;
  if (typeof queue !== 'function') {
    queue = w.floorwalker = function () { queue.q.push(arguments); };
  }
  queue.q = queue.q || [];

  function fail(e) {
    if (w.console) console.warn('[floorwalker] widget not loaded: ' + ((e && e.message) || e));
  }

  // The UI module (Leptos) as loadUi('cards'), imported once when the widget first asks for it;
  // loadUi('chat') is the same module once it has fetched its chat chunk. A failed load may be
  // retried.
  var ui = {};
  function loadUi(name) {
    return ui[name] || (ui[name] = (name == 'chat'
      ? loadUi('cards').then(function (m) { return m.chat_chunk().then(function () { return m; }); })
      : import(base + '/w/__FW_UI_GLUE__').then(function (m) {
        return m.default({ module_or_path: base + '/w/__FW_UI_WASM__' }).then(function () { return m; });
      })).catch(function (e) { ui[name] = null; throw e; }));
  }

  function start() {
    if (typeof WebAssembly !== 'object' || !w.fetch || !w.Promise) return fail('unsupported browser');
    if (!site) return fail('the script tag has no data-site');
    var config;
    // The config in the compact form the widget decodes (core's base::wire::VERSION, checked by tests/tests/api_edge.rs).
    // The owner's "see it on your site" link (core's preview_link) must show what was just saved,
    // not the minute-old config in this browser's cache.
    var fresh = w.location.hash.indexOf('fw-preview=') >= 0;
    fetch(base + '/v1/sites/' + encodeURIComponent(site) + '/config?wire=4', { credentials: 'omit', cache: fresh ? 'no-cache' : 'default' })
      .then(function (r) {
        if (!r.ok) throw new Error('config HTTP ' + r.status);
        return r.arrayBuffer();
      })
      .then(function (c) {
        config = new Uint8Array(c);
        return import(base + '/w/__FW_GLUE__');
      })
      .then(function (m) {
        return m.default({ module_or_path: base + '/w/__FW_WASM__' }).then(function () {
          // The only synchronous main-thread work of the widget's start; visible in DevTools and `make bench`.
          var perf = w.performance, t0 = perf && perf.now();
          var widget = m.start(base, config, loadUi);
          if (perf && perf.measure) perf.measure('floorwalker:mount', { start: t0, end: perf.now() });
          var pending = queue.q;
          // A widget fault must never surface in the page's own call.
          var run = function (args) { try { widget.command(args); } catch (e) { fail(e); } };
          w.floorwalker = function () { run(arguments); };
          for (var i = 0; i < pending.length; i++) run(pending[i]);
          hook('pushState');
          hook('replaceState');
        });
      })
      .catch(fail);
  }

  // SPA navigation: tell the widget after the page's own history call has returned. Plain JS, so
  // that the page's call keeps working whatever state the wasm is in.
  function hook(name) {
    var h = w.history, original = h && h[name];
    if (typeof original !== 'function') return;
    h[name] = function () {
      var result = original.apply(this, arguments);
      try { w.dispatchEvent(new Event('floorwalker:navigate')); } catch (e) { /* never the page's problem */ }
      return result;
    };
  }

  function whenIdle() {
    (w.requestIdleCallback || function (f) { setTimeout(f, 200); })(start, { timeout: 4000 });
  }
  if (d.readyState === 'complete') whenIdle();
  else w.addEventListener('load', whenIdle);
})(window, document);
