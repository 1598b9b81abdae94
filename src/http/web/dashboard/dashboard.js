// 热线运行监测: signs in with an operator or admin token (kept in this tab's sessionStorage),
// reads /api/admin/dashboard and draws its figures; the charts are SVG drawn by the server.
"use strict";
(function () {
  const KEY = "hotline-dashboard-token";
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  let timer = null;

  function text(tag, value) {
    const el = document.createElement(tag);
    el.textContent = value === null || value === undefined ? "" : String(value);
    return el;
  }
  function rows(table, items, cells) {
    const body = $(table).querySelector("tbody");
    body.replaceChildren();
    for (const item of items) {
      const tr = document.createElement("tr");
      for (const cell of cells(item)) {
        tr.append(cell instanceof Node ? cell : text("td", cell));
      }
      body.append(tr);
    }
  }
  const pct = (v) => (v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%");
  const change = (v) => (v === null || v === undefined ? "—" : (v > 0 ? "+" : "") + v.toFixed(1) + "%");

  function status(message) { $("status").textContent = message || ""; }

  async function load() {
    const token = sessionStorage.getItem(KEY);
    if (!token) return;
    const query = new URLSearchParams({ period: $("period").value });
    if (params.get("date")) query.set("date", params.get("date"));
    status("正在更新…");
    let response;
    try {
      response = await fetch("/api/admin/dashboard?" + query, { headers: { Authorization: "Bearer " + token } });
    } catch (e) {
      status("网络错误，稍后自动重试");
      return;
    }
    if (response.status === 401 || response.status === 403) {
      sessionStorage.removeItem(KEY);
      show(false);
      status("令牌无效或无权查看，请重新登录");
      return;
    }
    if (!response.ok) { status("更新失败（" + response.status + "）"); return; }
    draw(await response.json());
    status("");
  }

  function draw(data) {
    const r = data.report;
    $("period-title").textContent = r.city + " · " + r.kind_label + " · " + r.period;
    const cards = [
      ["工单总量", r.total], ["环比", change(r.change)], ["来件群众", r.citizens],
      ["超期未办结", r.overdue.open], ["热点预警", r.hotspots.length],
    ];
    $("cards").replaceChildren(...cards.map(([label, value]) => {
      const div = document.createElement("div");
      div.className = "kpi";
      div.append(text("b", value), text("span", label));
      return div;
    }));
    for (const chart of data.charts) {
      const figure = document.querySelector('figure.chart[data-chart="' + chart.id + '"]');
      if (!figure) continue;
      figure.dataset.series = chart.series.join(",");
      figure.innerHTML = chart.svg; // SVG drawn by our own server from numbers, no user markup
    }
    rows("alerts", data.alerts, (a) => [a.id, a.matter, a.district + a.street,
      new Date(a.raised_at).toLocaleString("zh-CN"), a.tickets.length, a.dispatched_to || "待派"]);
    $("rates-note").textContent = r.rates.interim
      ? "响应率、解决率、满意率来自回访数据，尚未接入；暂按超期占比、办结数排名。" : "";
    rows("units", r.rates.rows, (u) => {
      return [r.rates.rows.indexOf(u) + 1, u.name, u.tickets, u.answered, u.overdue,
        pct(u.responded), pct(u.resolved), pct(u.satisfied)];
    });
    $("overdue-summary").textContent = "期末超期未办结 " + r.overdue.open + " 件；本期超期办结 " + r.overdue.answered_late + " 件。";
    rows("overdue", r.overdue.oldest, (t) => [t.number, t.matter, t.district, t.unit, t.deadline, t.days_over]);
    rows("gaps", r.gaps, (g) => [g.kind, g.subject, g.citizens, g.requests]);
  }

  function show(signedIn) {
    $("login").hidden = signedIn;
    $("board").hidden = !signedIn;
    $("session").hidden = !signedIn;
    clearInterval(timer);
    if (signedIn) {
      load();
      timer = setInterval(load, 60000);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("login-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const token = $("token").value.trim();
      if (!token) { status("请输入访问令牌"); return; }
      sessionStorage.setItem(KEY, token);
      $("token").value = "";
      show(true);
    });
    $("logout").addEventListener("click", () => { sessionStorage.removeItem(KEY); show(false); });
    $("refresh").addEventListener("click", load);
    $("period").addEventListener("change", load);
    if (params.get("period")) $("period").value = params.get("period");
    show(!!sessionStorage.getItem(KEY));
  });
})();
