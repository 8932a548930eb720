/* 投诉统计: anonymised counts by nature, industry and month, and the hot words. */
"use strict";

(async () => {
  try {
    const stats = await FM.api("/api/stats/complaints?months=12");
    document.getElementById("total").textContent = `近 ${stats.months} 个月共收到投诉 ${stats.total.toLocaleString("zh-CN")} 件。`;
    const bars = (element, counts, color) => Charts.draw(element, [{
      type: "bar", orientation: "h", x: counts.map((c) => c.count).reverse(), y: counts.map((c) => c.label).reverse(),
      marker: { color }, hovertemplate: "%{y}：%{x} 件<extra></extra>",
    }], { margin: { l: 96, r: 16, t: 16, b: 32 }, hovermode: "closest", xaxis: { title: { text: "件数" } } });
    bars(document.getElementById("by-nature"), stats.by_nature, "#b03a2e");
    bars(document.getElementById("by-industry"), stats.by_industry, "#2e86c1");
    Charts.draw(document.getElementById("by-month"), [{
      type: "bar", x: stats.by_month.map((c) => c.label), y: stats.by_month.map((c) => c.count),
      marker: { color: "#1e8449" }, hovertemplate: "%{x}：%{y} 件<extra></extra>",
    }], { xaxis: { type: "category", title: { text: "月份" } }, yaxis: { title: { text: "件数" } }, hovermode: "closest" });
    const words = document.getElementById("hot-words");
    words.replaceChildren(...stats.hot_words.map((w) => FM.el("li", {},
      FM.el("a", { href: `/staff/complaints?${FM.query({ q: w.label })}`, title: `检索含“${w.label}”的投诉` }, FM.el("strong", { text: w.label }), ` ${w.count} 件`))));
    if (!stats.hot_words.length) words.replaceChildren(FM.el("li", { text: "投诉数量较少，暂无热词。" }));
  } catch (error) {
    FM.say(error.message, "error");
  }
})();
