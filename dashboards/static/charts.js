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
  const CONFIG = { locale: "zh-CN", displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

  function layout(extra = {}) {
    return {
      font: { family: FONT, size: 13 },
      margin: { l: 56, r: 16, t: 36, b: 48 },
      hovermode: "x unified",
      legend: { orientation: "h", y: -0.18 },
      xaxis: { tickformat: "%m-%d", hoverformat: "%Y-%m-%d" },
      ...extra,
    };
  }

  function draw(element, traces, extraLayout = {}) {
    return Plotly.react(element, traces, layout(extraLayout), CONFIG);
  }

  return { draw, layout, CONFIG };
})();
