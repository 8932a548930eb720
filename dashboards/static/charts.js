/* Plotly in Simplified Chinese: locale, fonts and the shared layout of every chart. */
"use strict";

const Charts = (() => {
  Plotly.register({
    moduleType: "locale",
    name: "zh-CN",
    dictionary: {
      "Autoscale": "自动缩放", "Box Select": "矩形选择", "Click to enter Colorscale title": "点击输入色阶标题",
      "Compare data on hover": "悬停时比较数据", "Double-click to zoom back out": "双击还原",
      "Download plot as a png": "下载为 PNG 图片", "Download plot": "下载图表", "Lasso Select": "套索选择",
      "Orbital rotation": "轨道旋转", "Pan": "平移", "Produced with Plotly.js": "由 Plotly.js 生成",
      "Reset axes": "重置坐标轴", "Reset view": "重置视图", "Show closest data on hover": "悬停时显示最近的数据",
      "Snapshot succeeded": "截图成功", "Toggle Spike Lines": "切换辅助线", "Zoom": "缩放",
      "Zoom in": "放大", "Zoom out": "缩小", "trace": "数据", "new text": "新文本",
    },
    format: {
      days: ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
      shortDays: ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
      months: ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月"],
      shortMonths: ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"],
      date: "%Y-%m-%d",
      decimal: ".",
      thousands: ",",
    },
  });

  const FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif';
  const CONFIG = { locale: "zh-CN", displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"] };
  // Below this width (a phone) the chart gets small margins, few ticks and no toolbar over the titles.
  const NARROW_PX = 560;

  const isNarrow = (element) => (element && element.clientWidth ? element.clientWidth : window.innerWidth) < NARROW_PX;

  /** The shared layout; ``extra``'s axes and legend are merged into the defaults, not swapped for them. */
  function layout(extra = {}, narrow = false) {
    const base = {
      font: { family: FONT, size: narrow ? 11 : 13 },
      margin: narrow ? { l: 44, r: 8, t: 28, b: 36 } : { l: 56, r: 16, t: 36, b: 48 },
      hovermode: "x unified",
      legend: { orientation: "h", y: -0.18, font: { size: narrow ? 10 : 12 } },
      xaxis: { automargin: true, nticks: narrow ? 4 : 10, tickangle: 0 },
      yaxis: { automargin: true, nticks: narrow ? 5 : 8 },
    };
    const merged = { ...base, ...extra };
    for (const key of ["xaxis", "yaxis", "legend", "font"]) merged[key] = { ...base[key], ...(extra[key] || {}) };
    if (narrow) {
      if (extra.margin) merged.margin = { ...extra.margin, l: Math.min(extra.margin.l ?? 44, 48), r: Math.min(extra.margin.r ?? 8, 8) };
      merged.xaxis.nticks = Math.min(merged.xaxis.nticks, 4);
    }
    // Titles sit left, away from the toolbar Plotly shows at the top right on hover.
    if (merged.title) merged.title = { x: 0, xanchor: "left", ...merged.title, font: { size: narrow ? 13 : 15, ...(merged.title.font || {}) } };
    return merged;
  }

  const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

  /** Day axes read 03-15 over a few months and 2026-03 over longer spans; week/month labels stay text. */
  function dateAxis(traces) {
    const days = traces.flatMap((trace) => trace.x || []).filter((x) => typeof x === "string");
    if (!days.length) return {};
    if (!days.every((x) => ISO_DAY.test(x))) return { type: "category" };
    const spanDays = (Date.parse(days.reduce((a, b) => (a > b ? a : b))) - Date.parse(days.reduce((a, b) => (a < b ? a : b)))) / 86_400_000;
    return { type: "date", tickformat: spanDays > 150 ? "%Y-%m" : "%m-%d", hoverformat: "%Y-%m-%d" };
  }

  function draw(element, traces, extraLayout = {}) {
    const narrow = isNarrow(element);
    const horizontalBars = traces.some((trace) => trace.orientation === "h");
    if (!horizontalBars) extraLayout = { ...extraLayout, xaxis: { ...dateAxis(traces), ...(extraLayout.xaxis || {}) } };
    const config = { ...CONFIG, displayModeBar: narrow ? false : "hover" };
    return Plotly.react(element, traces, layout(extraLayout, narrow), config);
  }

  return { draw, layout, CONFIG };
})();
