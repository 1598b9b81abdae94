// 12345在线 widget. A government site adds one line:
//   <script src="https://HOST/widget.js" defer></script>
// and gets a floating "12345在线" button that opens the chat (HOST/?embed=1) in a panel.
// Everything lives in a shadow root styled through the CSS object model, so neither the site's
// styles nor a strict Content-Security-Policy on the site get in its way. The site must be listed
// in the gateway's [web] allowed_origins, or the browser refuses to show the chat in the frame.
(() => {
  'use strict';

  const script = document.currentScript;
  if (!script || window.__hotline12345Widget) return;
  window.__hotline12345Widget = true;

  const origin = new URL(script.src, window.location.href).origin;
  const chatUrl = origin + '/?embed=1';

  const CSS = `
    :host { all: initial; }
    .launcher {
      position: fixed; right: 16px; bottom: 16px; z-index: 2147483000;
      display: inline-flex; align-items: center; gap: 8px;
      min-height: 48px; padding: 10px 18px; border: 0; border-radius: 999px;
      background: #a61b1b; color: #fff; cursor: pointer;
      font: 600 16px/1.2 system-ui, -apple-system, "PingFang SC", "Microsoft YaHei",
        "Noto Sans CJK SC", sans-serif;
      box-shadow: 0 4px 14px rgba(0, 0, 0, 0.25);
    }
    .launcher:hover { background: #861414; }
    .launcher:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 3px; }
    .launcher svg { width: 22px; height: 22px; flex: none; }
    .panel {
      position: fixed; right: 16px; bottom: 80px; z-index: 2147483001;
      width: 380px; height: min(640px, calc(100vh - 100px));
      border-radius: 14px; overflow: hidden; background: #fff;
      box-shadow: 0 8px 30px rgba(0, 0, 0, 0.3);
    }
    .panel[hidden] { display: none; }
    .panel iframe { display: block; width: 100%; height: 100%; border: 0; }
    @media (max-width: 480px) {
      .panel { inset: 0; width: auto; height: auto; border-radius: 0; }
    }
  `;

  // A speech bubble, built as nodes: no innerHTML, so sites enforcing Trusted Types are fine.
  function icon() {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    const path = svg.appendChild(document.createElementNS(ns, 'path'));
    path.setAttribute('fill', 'currentColor');
    path.setAttribute('d', 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z');
    return svg;
  }

  function build() {
    const host = document.createElement('div');
    host.setAttribute('data-hotline-12345', '');
    const root = host.attachShadow({ mode: 'open' });
    if ('adoptedStyleSheets' in root && typeof CSSStyleSheet === 'function') {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      const style = document.createElement('style');
      style.textContent = CSS;
      root.appendChild(style);
    }

    const launcher = document.createElement('button');
    launcher.type = 'button';
    launcher.className = 'launcher';
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-controls', 'hotline-panel');
    launcher.append(icon(), document.createTextNode('12345在线'));

    const panel = document.createElement('div');
    panel.className = 'panel';
    panel.id = 'hotline-panel';
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-label', '12345在线咨询');
    panel.hidden = true;

    let frame = null;

    function focusChat() {
      if (!frame) return;
      frame.focus();
      if (frame.contentWindow) frame.contentWindow.postMessage({ type: 'hotline:focus' }, origin);
    }

    function open() {
      if (!frame) {
        frame = document.createElement('iframe');
        frame.title = '12345在线咨询';
        frame.src = chatUrl;
        frame.referrerPolicy = 'no-referrer';
        frame.addEventListener('load', focusChat);
        panel.appendChild(frame);
      }
      panel.hidden = false;
      launcher.setAttribute('aria-expanded', 'true');
      focusChat();
    }

    function close() {
      if (panel.hidden) return;
      panel.hidden = true;
      launcher.setAttribute('aria-expanded', 'false');
      launcher.focus();
    }

    launcher.addEventListener('click', () => (panel.hidden ? open() : close()));
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') close();
    });
    window.addEventListener('message', (event) => {
      if (event.origin !== origin || !frame || event.source !== frame.contentWindow) return;
      if (event.data && event.data.type === 'hotline:close') close();
    });

    root.append(launcher, panel);
    document.body.appendChild(host);
  }

  if (document.body) build();
  else document.addEventListener('DOMContentLoaded', build);
})();
