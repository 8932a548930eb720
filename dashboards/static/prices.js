/* 价格走势: one good's low/avg/high band over a period, with its table and a CSV download. */
"use strict";

(() => {
  const form = document.getElementById("filters");
  const chart = document.getElementById("chart");
  const tbody = document.querySelector("#table tbody");
  const download = document.getElementById("download");
  let current = null;

  async function loadProducts() {
    const products = await FM.api("/api/products");
    const select = document.getElementById("product");
    const priced = new Set(JSON.parse(document.getElementById("priced-products").textContent));
    const groups = new Map();
    const unpriced = FM.el("optgroup", { label: "暂无报价（尚未采集到价格）" });
    for (const product of products.data) {
      const text = `${product.name}（${FM.unit(product.price_unit)}）`;
      if (!priced.has(product.code)) {
        unpriced.append(FM.el("option", { value: product.code, text: `${text}·暂无数据`, disabled: true }));
        continue;
      }
      const name = product.category.name;
      if (!groups.has(name)) groups.set(name, FM.el("optgroup", { label: name }));
      groups.get(name).append(FM.el("option", { value: product.code, text }));
    }
    select.append(...groups.values());
    if (unpriced.children.length) {
      select.append(unpriced);
      const hint = document.getElementById("unpriced-hint");
      hint.textContent = `另有 ${unpriced.children.length} 种商品尚未采集到价格，列在商品选单末尾，暂不能查询。`;
      hint.hidden = false;
    }
    const wanted = new URLSearchParams(location.search).get("product");
    if (wanted && products.data.some((p) => p.code === wanted)) select.value = wanted;
  }

  function render(series) {
    const points = series.data;
    const x = points.map((p) => p.period);
    const unit = FM.unit(series.product.price_unit);
    const band = "rgba(214, 69, 65, 0.15)";
    Charts.draw(chart, [
      { x, y: points.map((p) => p.high), name: "最高价", type: "scatter", mode: "lines", line: { color: "#d64541", width: 1 } },
      { x, y: points.map((p) => p.low), name: "最低价", type: "scatter", mode: "lines", fill: "tonexty", fillcolor: band, line: { color: "#2e86c1", width: 1 } },
      { x, y: points.map((p) => p.avg), name: "平均价", type: "scatter", mode: "lines+markers", marker: { size: 4 }, line: { color: "#1b2631", width: 2 } },
    ], {
      title: { text: `${series.product.name} ${series.region || "全部地区"}${series.price_type === "retail" ? "零售价" : "批发价"}（${unit}）`, font: { size: 15 } },
      yaxis: { title: { text: unit }, rangemode: "normal" },
    });
    tbody.replaceChildren(...points.slice().reverse().map((p) => FM.el("tr", {},
      FM.el("td", { text: p.period }), FM.el("td", { text: FM.money(p.low) }), FM.el("td", { text: FM.money(p.avg) }),
      FM.el("td", { text: FM.money(p.high) }), FM.el("td", { text: FM.money(p.median) }), FM.el("td", { text: p.count }))));
    document.getElementById("table-title").textContent = `价格明细（${series.start} 至 ${series.end}，共 ${series.count} 期）`;
    download.disabled = points.length === 0;
    current = series;
  }

  async function load() {
    const data = new FormData(form);
    const days = Number(data.get("period"));
    const end = new Date();
    const start = new Date(end.getTime() - (days - 1) * 86400000);
    const params = {
      product: data.get("product"), region: data.get("region"), price_type: data.get("price_type"),
      frequency: data.get("frequency"), from: FM.isoDate(start), to: FM.isoDate(end),
    };
    FM.say("正在加载…");
    try {
      const series = await FM.api(`/api/prices/series?${FM.query(params)}`);
      render(series);
      FM.say(series.count ? "" : "该时段没有这个商品的报价，请换一个地区、价格类型或时段。", series.count ? "info" : "warn");
    } catch (error) {
      FM.say(error.message, "error");
    }
  }

  download.addEventListener("click", () => {
    if (!current) return;
    const rows = [["日期", "最低价", "平均价", "最高价", "中位数", "报价数", "单位"]];
    for (const p of current.data) rows.push([p.period, p.low, p.avg, p.high, p.median, p.count, FM.unit(current.product.price_unit)]);
    FM.downloadBlob(FM.csv(rows), `价格走势_${current.product.name}_${current.start}_${current.end}.csv`);
  });
  // A region's prices are of one type (a wholesale market, a city's retail survey): follow it.
  document.getElementById("region").addEventListener("change", (event) => {
    const priceType = event.target.selectedOptions[0].dataset.priceType;
    if (priceType) document.getElementById("price_type").value = priceType;
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });

  // 关注价格: follow the chosen good, region and price type by e-mail (confirmed from the mail).
  const follow = document.getElementById("follow");
  const followResult = document.getElementById("follow-result");
  follow.addEventListener("submit", async (event) => {
    event.preventDefault();
    const filters = new FormData(form);
    const wanted = new FormData(follow);
    const showFollow = (text, kind) => { followResult.textContent = text; followResult.className = `message ${kind}`; followResult.hidden = false; };
    if (!follow.reportValidity()) return;
    const body = {
      email: String(wanted.get("email")).trim(), threshold_percent: Number(wanted.get("threshold_percent")),
      product: filters.get("product"), region: filters.get("region") || "", price_type: filters.get("price_type"),
    };
    const submit = document.getElementById("follow-submit");
    submit.disabled = true;
    try {
      const answer = await FM.api("/api/price-follows", { method: "POST", body });
      showFollow(answer.message, "ok");
    } catch (error) {
      showFollow(error.status === 422 ? "请填写正确的邮箱，幅度在 1% 到 100% 之间。" : error.message, "error");
    } finally {
      submit.disabled = false;
    }
  });
  loadProducts().then(load).catch((error) => FM.say(error.message, "error"));
})();
