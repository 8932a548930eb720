/* 民生价格指数: the chosen basket's index over time, and every category's latest index. */
"use strict";

(() => {
  const form = document.getElementById("filters");
  const chart = document.getElementById("chart");
  const tbody = document.querySelector("#categories tbody");

  function window_(days) {
    const end = new Date();
    return { from: FM.isoDate(new Date(end.getTime() - (days - 1) * 86400000)), to: FM.isoDate(end) };
  }

  function latest(points) {
    const priced = points.filter((p) => p.index !== null);
    return priced.length ? priced[priced.length - 1] : null;
  }

  async function loadBasket() {
    const data = new FormData(form);
    const params = { basket: data.get("basket"), ...window_(Number(data.get("period"))) };
    const answer = await FM.api(`/api/prices/index?${FM.query(params)}`);
    // The axis spans the days that have an index, not the whole requested period: a market watched for
    // 60 days shown over "近 90 天" would otherwise open on a month of empty chart.
    const priced = answer.data.filter((p) => p.index !== null).map((p) => p.date);
    const span = priced.length ? [priced[0], priced[priced.length - 1]] : [answer.start, answer.end];
    Charts.draw(chart, [
      { x: answer.data.map((p) => p.date), y: answer.data.map((p) => p.index), name: answer.name, type: "scatter", mode: "lines", line: { color: "#b03a2e", width: 2 }, connectgaps: false },
      { x: span, y: [100, 100], name: "基期 = 100", type: "scatter", mode: "lines", line: { color: "#7f8c8d", dash: "dot", width: 1 }, hoverinfo: "skip" },
    ], {
      title: { text: `${answer.name}（基期 ${answer.base_period || answer.base_date || answer.start} = 100）`, font: { size: 15 } },
      yaxis: { title: { text: "指数" } },
    });
    return answer;
  }

  async function loadCategories() {
    const days = Number(new FormData(form).get("period"));
    const categories = await FM.api("/api/products/categories");
    const answers = await Promise.all(categories.data.map((category) =>
      FM.api(`/api/prices/index?${FM.query({ category: category.code, ...window_(days) })}`).catch(() => null)));
    const rows = [];
    for (const [i, category] of categories.data.entries()) {
      const point = answers[i] && latest(answers[i].data);
      if (!point) continue;
      const change = point.index - 100;
      rows.push(FM.el("tr", {},
        FM.el("td", { text: category.name }), FM.el("td", { text: point.date }),
        FM.el("td", { text: point.index.toFixed(1) }),
        FM.el("td", { text: `${change >= 0 ? "+" : ""}${change.toFixed(1)}%` })));
    }
    tbody.replaceChildren(...rows);
  }

  async function load() {
    FM.say("正在加载…");
    try {
      await Promise.all([loadBasket(), loadCategories()]);
      FM.say("");
    } catch (error) {
      FM.say(error.message, "error");
    }
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  load();
})();
