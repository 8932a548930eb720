/* 价格预警公示: published alerts with their evidence, filtered by good, area and period (kept in the URL). */
"use strict";

(() => {
  const SIZE = 10;
  const form = document.getElementById("filters");
  const FIELDS = ["product_id", "region", "since", "until"];
  let page = 1;
  const showPage = FM.pager((to) => { page = to; load(); });

  function render(alert) {
    const e = alert.evidence || {};
    const chart = FM.el("div", { class: "chart small", role: "img", "aria-label": `预警 #${alert.id} 证据图` });
    const card = FM.el("article", { class: "alert-card", "data-alert-id": alert.id },
      FM.el("h2", {}, `${(e.rule && e.rule.title) || FM.label("alert_kind", alert.kind)} `,
        FM.el("span", { class: `badge ${alert.severity}`, text: `${FM.label("severity", alert.severity)}级` }), " ",
        FM.el("span", { class: "badge status", text: alert.status_name })),
      AlertEvidence.facts(alert),
      chart);
    requestAnimationFrame(() => AlertEvidence.draw(chart, alert));
    return card;
  }

  function filters() {
    const data = new FormData(form);
    return Object.fromEntries(FIELDS.map((name) => [name, String(data.get(name) || "")]));
  }

  async function load() {
    const chosen = filters();
    if (chosen.since && chosen.until && chosen.since > chosen.until) {
      FM.say(`起始日期 ${chosen.since} 晚于结束日期 ${chosen.until}，请调换后再筛选。`, "error");
      document.getElementById("since").setAttribute("aria-invalid", "true");
      return;
    }
    document.getElementById("since").removeAttribute("aria-invalid");
    history.replaceState(null, "", `/alerts?${FM.query(chosen)}`);
    FM.say("正在加载…");
    try {
      const result = await FM.api(`/api/alerts?${FM.query({ ...chosen, page, size: SIZE })}`);
      const list = document.getElementById("alerts");
      list.replaceChildren(...result.data.map(render));
      if (!result.data.length) list.replaceChildren(FM.el("p", { class: "result", text: "没有符合条件的价格预警。可放宽商品、地区或日期条件后再试。" }));
      document.getElementById("summary").textContent = `共 ${result.count} 条价格预警`;
      showPage(page, result.count, SIZE);
      FM.say("");
    } catch (error) {
      FM.say(error.message, "error");
    }
  }

  const initial = new URLSearchParams(location.search);
  for (const name of FIELDS) {
    const field = form.elements[name];
    if (field && initial.get(name)) field.value = initial.get(name);
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); page = 1; load(); });
  load();
})();
