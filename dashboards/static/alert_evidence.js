/* An alert's evidence chart and facts, shared by 价格预警公示 (public) and 预警处理 (staff). */
"use strict";

const AlertEvidence = (() => {
  const DAY_MS = 86_400_000;

  /** The price (or count) at which the rule fires: the reference times (1 + the rule's margin). */
  function thresholdRatio(evidence) {
    if (String(evidence.rule && evidence.rule.kind).startsWith("complaint")) return null;
    const ratio = evidence.peak_change - evidence.breach;
    return Number.isFinite(ratio) && ratio > 0 ? ratio : null;
  }

  const round2 = (values) => values.map((v) => (v === null || v === undefined ? null : Math.round(v * 100) / 100));

  function traces(alert) {
    const e = alert.evidence || {};
    const s = e.series || { dates: [] };
    const dates = s.dates || [];
    const isComplaint = alert.kind.startsWith("complaint");
    const own = round2(s.merchant || s.value || []);
    const reference = round2(s.reference || []);
    const money = isComplaint ? "%{y}" : "%{y:.2f}";
    const shown = [{
      x: dates, y: own, name: isComplaint ? "价格投诉（件/日）" : (alert.merchant || "经营者价格"), type: "scatter", mode: "lines+markers",
      line: { color: "#b03a2e", width: 2 }, marker: { size: 5 }, hovertemplate: `${money}<extra>%{fullData.name}</extra>`,
    }];
    if (s.market_median) shown.push({ x: dates, y: round2(s.market_median), name: "市场中位价", type: "scatter", mode: "lines", line: { color: "#2e86c1", width: 1.5 }, hovertemplate: `${money}<extra>市场中位价</extra>` });
    if (reference.some((v) => v !== null)) shown.push({ x: dates, y: reference, name: "参照水平", type: "scatter", mode: "lines", line: { color: "#1e8449", dash: "dash" }, connectgaps: false, hovertemplate: `${money}<extra>参照水平</extra>` });
    const ratio = thresholdRatio(e);
    if (ratio !== null) {
      const referenceValue = e.reference ? e.reference.value : null;
      const levels = reference.some((v) => v !== null) ? reference : dates.map(() => referenceValue);
      shown.push({ x: dates, y: round2(levels.map((v) => (v === null ? null : v * (1 + ratio)))), name: `触发线（参照 +${(ratio * 100).toFixed(0)}%）`, type: "scatter", mode: "lines", line: { color: "#e67e22", dash: "dot" }, connectgaps: false, hoverinfo: "skip" });
    }
    const peers = (e.peers && e.peers.sample) || [];
    if (peers.length) {
      shown.push({ x: peers.map(() => e.peers.date), y: round2(peers.map((p) => p.price)), text: peers.map((p) => p.merchant || "同行"), name: `同行报价（${e.peers.date}）`, type: "scatter", mode: "markers", marker: { color: "#7f8c8d", size: 8, symbol: "diamond" }, hovertemplate: "%{text}：%{y:.2f}<extra></extra>" });
    }
    return shown;
  }

  /** First and last day that has a value on any trace: the chart starts where the data starts. */
  function dataExtent(shown) {
    let first = null;
    let last = null;
    for (const trace of shown) {
      (trace.x || []).forEach((x, i) => {
        if (trace.y[i] === null || trace.y[i] === undefined) return;
        if (first === null || x < first) first = x;
        if (last === null || x > last) last = x;
      });
    }
    return first === null ? null : { first, last };
  }

  const shiftDay = (iso, days) => new Date(Date.parse(iso) + days * DAY_MS).toISOString().slice(0, 10);

  const hasValues = (trace) => (trace.y || []).some((v) => v !== null && v !== undefined);

  /** Draws the evidence; where nothing may be shown yet (the public view of an unconfirmed alert has
   *  no merchant prices) the box says so instead of drawing empty axes. */
  function draw(element, alert) {
    const e = alert.evidence || {};
    const shown = traces(alert).filter(hasValues);
    const extent = dataExtent(shown);
    if (!extent) {
      element.classList.add("no-data");
      element.removeAttribute("role");
      element.textContent = alert.status === "confirmed" || alert.actions
        ? "本预警没有可绘制的价格数据。"
        : "经营者的价格明细在预警经核实确认后公布；此处暂无可公开的走势数据。";
      return;
    }
    const window = e.reference && e.reference.window;
    const shapes = [];
    const annotations = [];
    if (window && extent && window.to >= extent.first) {
      // The reference band is drawn only over days that have data, not over an empty stretch before them.
      const from = window.from > extent.first ? window.from : extent.first;
      shapes.push({ type: "rect", xref: "x", yref: "paper", x0: from, x1: window.to, y0: 0, y1: 1, fillcolor: "rgba(30, 132, 73, 0.08)", line: { width: 0 }, layer: "below" });
      annotations.push({ xref: "x", yref: "paper", x: from, y: 1, xanchor: "left", yanchor: "bottom", text: "参照期", showarrow: false, font: { size: 11, color: "#1e8449" } });
    }
    const xaxis = extent ? { range: [shiftDay(extent.first, -0.5), shiftDay(extent.last, 0.5)], type: "date" } : {};
    Charts.draw(element, shown, {
      shapes, annotations, margin: { l: 56, r: 16, t: 24, b: 40 }, xaxis,
      yaxis: { title: { text: FM.unit(e.unit) || (alert.kind.startsWith("complaint") ? "件" : "") }, tickformat: alert.kind.startsWith("complaint") ? "d" : ".2f" },
    });
  }

  function fact(term, value) {
    return value || value === 0 ? [FM.el("dt", { text: term }), FM.el("dd", { text: value })] : [];
  }

  function percent(value) {
    return value === null || value === undefined ? "" : `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)}%`;
  }

  /** The facts a reader needs to judge the alert; ``extra`` are staff-only pairs appended at the end. */
  function facts(alert, ...extra) {
    const e = alert.evidence || {};
    const isComplaint = alert.kind.startsWith("complaint");
    const amount = (value) => (isComplaint ? value : FM.money(value));
    return FM.el("dl", { class: "pairs" },
      ...fact("商品", alert.product), ...fact("经营者", alert.merchant), ...fact("地区", alert.region),
      ...fact("规则类型", FM.label("alert_kind", alert.kind)),
      ...fact("时段", `${alert.start_date} 至 ${alert.end_date}（${e.days || "?"} 天）`),
      ...fact("当前 / 参照", e.current !== undefined && e.reference ? `${amount(e.current)} / ${amount(e.reference.value)} ${isComplaint ? "件" : FM.unit(e.unit || "")}` : null),
      ...(isComplaint
        ? fact("对比基线", e.change === null || e.change === undefined ? null : `${(e.change + 1).toFixed(1)} 倍`)
        : [...fact("涨幅", percent(e.change)), ...fact("市场涨幅", percent(e.market_change))]),
      ...fact("参照说明", e.reference && e.reference.description), ...fact("依据", e.rule && e.rule.citation),
      ...extra.flat());
  }

  return { draw, facts, fact, percent };
})();
