/* 我的关注: the signed-in staff member's watches (saved searches, merchants, goods, categories). */
"use strict";

(() => {
  if (!FM.requireStaff()) return;
  const KINDS = { search: "保存的检索", merchant: "经营者", product: "商品", category: "商品类别" };
  const CHANNELS = { inbox: "收件箱", webhook: "Webhook", email: "邮件", im: "即时通讯" };
  const TARGET = { merchant: "merchant_id", product: "product_id", category: "category_id" };
  const form = document.getElementById("new-watch");
  const kind = document.getElementById("kind");

  function showFields() {
    const search = kind.value === "search";
    form.querySelectorAll('[data-for="search"]').forEach((label) => { label.hidden = !search; });
    form.querySelector('[data-for="target"]').hidden = search;
  }

  function condition(watch) {
    if (watch.kind === "search") {
      const filters = Object.entries(watch.filters || {}).map(([key, values]) => `${key}: ${[].concat(values).join("、")}`);
      return [watch.query, ...filters].filter(Boolean).join("；");
    }
    return `编号 ${watch[TARGET[watch.kind]]}`;
  }

  async function load() {
    try {
      const result = await FM.api("/api/watches");
      document.querySelector("#watches tbody").replaceChildren(...result.data.map((watch) => {
        const remove = FM.el("button", { type: "button", class: "link", text: "取消关注" });
        remove.addEventListener("click", async () => {
          try { await FM.api(`/api/watches/${watch.id}`, { method: "DELETE" }); load(); } catch (error) { FM.say(error.message, "error"); }
        });
        return FM.el("tr", {},
          FM.el("td", { text: watch.name }), FM.el("td", { text: KINDS[watch.kind] || watch.kind }),
          FM.el("td", { text: condition(watch) }),
          FM.el("td", { text: watch.channels.map((c) => CHANNELS[c] || c).join("、") }),
          FM.el("td", { text: FM.dateTime(watch.created_at) }), FM.el("td", {}, remove));
      }));
      FM.say(result.count ? "" : "还没有关注。");
    } catch (error) {
      FM.say(error.message, "error");
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { name: data.get("name"), kind: data.get("kind"), channels: data.getAll("channels") };
    if (body.kind === "search") {
      body.query = data.get("query");
      if (data.get("nature")) body.filters = { nature: [data.get("nature")] };
    } else {
      body[TARGET[body.kind]] = Number(data.get("target_id"));
    }
    if (data.get("webhook_url")) body.webhook_url = data.get("webhook_url");
    if (data.get("email")) body.email = data.get("email");
    try {
      const made = await FM.api("/api/watches", { method: "POST", body });
      const secret = document.getElementById("secret");
      secret.hidden = !made.webhook_secret;
      secret.textContent = made.webhook_secret ? `Webhook 签名密钥（只显示这一次）：${made.webhook_secret}` : "";
      form.reset();
      showFields();
      load();
    } catch (error) {
      FM.say(error.message, "error");
    }
  });
  kind.addEventListener("change", showFields);
  showFields();
  load();
})();
