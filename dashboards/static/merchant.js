/* 经营者投诉档案: one merchant's complaints, response and resolution rates beside its industry's. */
"use strict";

(async () => {
  const id = document.getElementById("merchant").dataset.merchantId;
  const rate = (value) => (value === null || value === undefined ? "—" : `${(value * 100).toFixed(0)}%`);
  const fact = (term, value) => (value || value === 0 ? [FM.el("dt", { text: term }), FM.el("dd", { text: value })] : []);
  try {
    const m = await FM.api(`/api/merchants/${id}`);
    document.title = `${m.name} · 经营者投诉档案`;
    document.getElementById("m-name").textContent = m.name;
    document.getElementById("m-facts").replaceChildren(
      ...fact("行业", m.industry_name), ...fact("区域", m.district), ...fact("统计时段", `${m.since} 起`),
      ...fact("投诉件数", `${m.complaints} 件`), ...fact("已受理", `${m.accepted} 件`),
      ...fact("进入调解（商家响应）", `${m.mediated} 件`), ...fact("调解成功", `${m.resolved} 件`), ...fact("调解终止", `${m.ended_without_agreement} 件`));
    const few = `少于 ${m.min_cases_for_rate} 件，不计比例`;
    const ratio = m.industry_median_complaints ? m.complaints / m.industry_median_complaints : null;
    document.getElementById("m-size-note").textContent = [
      `同行业有投诉的经营者 ${m.industry_merchants} 家。`,
      ratio === null ? "" : `本经营者的投诉件数约为同行业中位数的 ${ratio.toFixed(1)} 倍；规模大、顾客多的经营者件数自然更多，比例指标更能说明处理态度。`,
    ].join("");
    document.querySelector("#m-compare tbody").replaceChildren(
      FM.el("tr", {}, FM.el("td", { text: "投诉件数" }), FM.el("td", { text: m.complaints }), FM.el("td", { text: m.industry_median_complaints ?? "—" })),
      FM.el("tr", {}, FM.el("td", { text: "响应率（受理后进入调解）" }), FM.el("td", { text: m.response_rate === null ? few : rate(m.response_rate) }), FM.el("td", { text: rate(m.industry_median_response_rate) })),
      FM.el("tr", {}, FM.el("td", { text: "解决率（调解成功）" }), FM.el("td", { text: m.resolution_rate === null ? few : rate(m.resolution_rate) }), FM.el("td", { text: rate(m.industry_median_resolution_rate) })));
    Charts.draw(document.getElementById("m-nature"), [{
      type: "bar", orientation: "h", x: m.by_nature.map((c) => c.count).reverse(), y: m.by_nature.map((c) => c.label).reverse(),
      marker: { color: "#b03a2e" }, hovertemplate: "%{y}：%{x} 件<extra></extra>",
    }], { margin: { l: 96, r: 16, t: 16, b: 32 }, hovermode: "closest", xaxis: { title: { text: "件数" }, tickformat: "d" } });
    Charts.draw(document.getElementById("m-month"), [{
      type: "bar", x: m.by_month.map((c) => c.label), y: m.by_month.map((c) => c.count), marker: { color: "#1e8449" }, hovertemplate: "%{x}：%{y} 件<extra></extra>",
    }], { hovermode: "closest", yaxis: { title: { text: "件数" }, tickformat: "d" } });
    const alerts = document.getElementById("m-alerts");
    alerts.replaceChildren(...m.confirmed_alerts.map((a) => FM.el("li", {}, `${a.start_date} 至 ${a.end_date} · ${a.title}${a.product ? `（${a.product}）` : ""} · ${a.severity_name}级`)));
    if (!m.confirmed_alerts.length) alerts.replaceChildren(FM.el("li", { text: "暂无经确认的价格违规预警。" }));
  } catch (error) {
    FM.say(error.status === 404 ? "没有这个经营者。" : error.message, "error");
  }
})();
