/* 经营者投诉档案: merchants with complaints, most complained-about first, by name and industry. */
"use strict";

(() => {
  const SIZE = 30;
  const form = document.getElementById("filters");
  const industry = document.getElementById("industry");
  industry.append(...Object.entries(FM.labels("industry")).map(([code, name]) => FM.el("option", { value: code, text: name })));
  let page = 1;
  const showPage = FM.pager((to) => { page = to; load(); });

  async function load() {
    const data = new FormData(form);
    const params = { q: String(data.get("q") || "").trim(), industry: data.get("industry") };
    history.replaceState(null, "", `/merchants?${FM.query(params)}`);
    FM.say("正在加载…");
    try {
      const result = await FM.api(`/api/merchants?${FM.query({ ...params, page, size: SIZE })}`);
      document.querySelector("#merchants tbody").replaceChildren(...result.data.map((m) => FM.el("tr", {},
        FM.el("td", {}, FM.el("a", { href: `/merchants/${m.id}` }, m.name)), FM.el("td", { text: m.industry_name }),
        FM.el("td", { text: m.district || "" }), FM.el("td", { text: m.complaints }))));
      document.getElementById("summary").textContent = result.count
        ? `共 ${result.count} 家经营者近 12 个月有投诉`
        : `没有找到${params.q ? `名称含“${params.q}”的` : ""}有投诉记录的经营者。`;
      showPage(page, result.count, SIZE);
      FM.say("");
    } catch (error) {
      FM.say(error.message, "error");
    }
  }

  const initial = new URLSearchParams(location.search);
  document.getElementById("q").value = initial.get("q") || "";
  industry.value = initial.get("industry") || "";
  form.addEventListener("submit", (event) => { event.preventDefault(); page = 1; load(); });
  load();
})();
