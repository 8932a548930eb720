/* 转办投诉: the complaints routed to the signed-in association (the API scopes them). */
"use strict";

(() => {
  if (!FM.requireStaff()) return;
  const LABELS = JSON.parse(document.getElementById("labels").textContent);
  const SIZE = 30;
  const form = document.getElementById("filters");
  let page = 1;
  const showPage = FM.pager((to) => { page = to; load(); });

  async function load() {
    const data = new FormData(form);
    const params = { status: data.get("status"), overdue: data.get("overdue") ? "true" : "", page, size: SIZE };
    try {
      const result = await FM.api(`/api/complaints?${FM.query(params)}`);
      document.querySelector("#complaints tbody").replaceChildren(...result.data.map((c) => FM.el("tr", {},
        FM.el("td", {}, FM.el("a", { href: `/staff/complaints/${c.id}`, text: c.tracking_code })),
        FM.el("td", { text: c.title || "" }),
        FM.el("td", {}, FM.el("span", { class: `badge ${c.overdue ? "error" : ""}`, text: c.status_name + (c.overdue ? "（超期）" : "") })),
        FM.el("td", { text: (c.nature && (LABELS.nature[c.nature] || c.nature)) || "" }),
        FM.el("td", { text: c.merchant_name || "" }), FM.el("td", { text: FM.dateTime(c.created_at) }),
        FM.el("td", { text: c.mediate_deadline || "" }))));
      document.getElementById("summary").textContent = `共 ${result.count} 件`;
      showPage(page, result.count, SIZE);
      FM.say("");
    } catch (error) {
      FM.say(error.message, "error");
    }
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); page = 1; load(); });
  load();
})();
