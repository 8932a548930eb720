/* 待归类商品: provisional goods by price count with suggestions; merge one into a good, undo a merge. */
"use strict";

(async () => {
  if (!FM.requireStaff()) return;
  const UNIT = { "500g": "元/500g", L: "元/L", piece: "元/件" };
  const td = (value) => FM.el("td", {}, value instanceof Node ? value : String(value ?? ""));
  const merged = document.querySelector("#merged tbody");

  function mergeForm(good) {
    const input = FM.el("input", { name: "into", required: "", maxlength: "60", placeholder: "目标商品名称或编码",
      "aria-label": `${good.name} 并入的商品` });
    if (good.suggestions.length) input.value = good.suggestions[0].name;
    const form = FM.el("form", { class: "inline" }, input, FM.el("button", { type: "submit", text: "合并" }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const done = await FM.api(`/api/provisional-goods/${encodeURIComponent(good.code)}/merge`,
          { method: "POST", body: { into: input.value.trim() } });
        const undo = FM.el("button", { type: "button", text: "撤销" });
        const row = FM.el("tr", {}, td(done.provisional.name), td(done.product.name), td(done.observations), td(done.days.length), td(undo));
        undo.addEventListener("click", async () => {
          try {
            await FM.api(`/api/provisional-goods/${encodeURIComponent(good.code)}/unmerge`, { method: "POST" });
            row.remove();
            FM.say(`已撤销：${done.provisional.name} 恢复为待归类商品。`, "info");
            await load();
          } catch (error) { FM.say(error.message, "error"); }
        });
        merged.prepend(row);
        FM.say(`已将 ${done.provisional.name} 的 ${done.observations} 条价格并入 ${done.product.name}。`, "info");
        await load();
      } catch (error) { FM.say(error.message, "error"); }
    });
    return form;
  }

  async function load() {
    const goods = await FM.api("/api/provisional-goods?limit=200");
    document.querySelector("#provisional tbody").replaceChildren(...goods.data.map((good) => FM.el("tr", {},
      td(good.name), td(good.category), td(UNIT[good.standard_unit] || good.standard_unit), td(good.observations),
      td(good.first_day ? `${good.first_day} 至 ${good.last_day}` : ""),
      td(good.suggestions.map((item) => item.name).join("、") || "—"), td(mergeForm(good)))));
    if (!goods.count) FM.say("没有待归类商品：所有价格都已归入目录商品。", "info");
  }

  try { await load(); } catch (error) { FM.say(error.message, "error"); }
})();
