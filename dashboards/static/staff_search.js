/* 投诉检索: full-text search with facets (each facet ignores its own filter), highlights, paging, export. */
"use strict";

(() => {
  if (!FM.requireStaff()) return;
  const LABELS = JSON.parse(document.getElementById("labels").textContent);
  const FACETS = [["status", "处理状态"], ["nature", "投诉性质"], ["industry", "行业"], ["district", "区域"], ["merchant", "商家"]];
  const SIZE = 20;
  const form = document.getElementById("search");
  let state = fromUrl();
  const showPage = FM.pager((to) => { state.page = to; run(); });

  function fromUrl() {
    const params = new URLSearchParams(location.search);
    const picked = {};
    for (const [name] of FACETS) picked[name] = params.getAll(name);
    return {
      q: params.get("q") || "", created_from: params.get("created_from") || "", created_to: params.get("created_to") || "",
      amount_min: params.get("amount_min") || "", amount_max: params.get("amount_max") || "",
      sort: params.get("sort") || "relevance", page: Math.max(1, Number(params.get("page")) || 1), picked,
    };
  }

  function toParams() {
    const { q, created_from, created_to, amount_min, amount_max, sort } = state;
    return { q, created_from, created_to, amount_min, amount_max, sort, ...state.picked };
  }

  function label(facet, value) {
    return (LABELS[facet] && LABELS[facet][value]) || value;
  }

  /** Highlight offsets count code points (as Python does); an emoji is two UTF-16 units in JS. */
  function highlighted(text, highlights, field) {
    const chars = Array.from(text);
    const cut = (from, to) => chars.slice(from, to).join("");
    const spans = highlights.filter((h) => h.field === field).sort((a, b) => a.start - b.start);
    const parts = [];
    let at = 0;
    for (const span of spans) {
      if (span.start < at) continue;
      parts.push(cut(at, span.start), FM.el("mark", { text: cut(span.start, span.end) }));
      at = span.end;
    }
    parts.push(cut(at));
    return parts;
  }

  /** Conditions that can match nothing, said before searching: a reversed date or amount range. */
  function contradictions() {
    const problems = [];
    if (state.created_from && state.created_to && state.created_from > state.created_to) problems.push(`起始日期 ${state.created_from} 晚于截止日期 ${state.created_to}`);
    if (state.amount_min !== "" && state.amount_max !== "" && Number(state.amount_min) > Number(state.amount_max)) problems.push(`金额下限 ${state.amount_min} 元大于上限 ${state.amount_max} 元`);
    return problems;
  }

  /** Why a search found nothing: the conditions in force, and what to loosen. */
  function noMatchExplanation() {
    const active = [];
    if (state.q) active.push(`关键词“${state.q}”`);
    if (state.created_from || state.created_to) active.push(`日期 ${state.created_from || "不限"} 至 ${state.created_to || "不限"}`);
    if (state.amount_min !== "" || state.amount_max !== "") active.push(`金额 ${state.amount_min || 0} 至 ${state.amount_max || "不限"} 元`);
    const picked = FACETS.flatMap(([name, title]) => state.picked[name].map((value) => `${title}：${label(name, value)}`));
    active.push(...picked);
    if (!active.length) return "没有符合条件的投诉：目前还没有任何投诉。";
    return `没有符合条件的投诉。当前条件：${active.join("；")}。可减少关键词、放宽日期或金额范围，或取消左侧的分类筛选。`;
  }

  function renderFacets(facets) {
    const aside = document.getElementById("facets");
    aside.replaceChildren(...FACETS.filter(([name]) => facets[name]).map(([name, title]) => {
      const values = facets[name];
      const chosen = new Set(state.picked[name]);
      for (const value of chosen) if (!values.some((v) => v.value === value)) values.push({ value, count: 0 });
      return FM.el("fieldset", {}, FM.el("legend", { text: title }), ...values.slice(0, 12).map((v) =>
        FM.el("label", {},
          FM.el("input", {
            type: "checkbox", name, value: v.value, checked: chosen.has(v.value),
            onchange: (event) => {
              const set = new Set(state.picked[name]);
              if (event.target.checked) set.add(v.value); else set.delete(v.value);
              state.picked[name] = [...set];
              state.page = 1;
              run();
            },
          }),
          label(name, v.value), FM.el("span", { class: "count", text: v.count }))));
    }));
  }

  function renderHits(result) {
    const hits = document.getElementById("hits");
    if (!result.hits.length) { hits.replaceChildren(FM.el("p", { class: "result", text: noMatchExplanation() })); return; }
    hits.replaceChildren(...result.hits.map((hit) => FM.el("article", { class: "hit" },
      FM.el("h3", {}, FM.el("a", { href: `/staff/complaints/${hit.id}` }, ...highlighted(hit.title || "（无标题）", hit.highlights, "title"))),
      FM.el("p", {}, ...highlighted(hit.text, hit.highlights, "text")),
      FM.el("div", { class: "meta" },
        FM.el("span", { class: "badge", text: hit.status_name }),
        ...[hit.tracking_code, FM.dateTime(hit.created_at),
          hit.nature && `性质：${label("nature", hit.nature)}`, hit.industry && `行业：${label("industry", hit.industry)}`,
          hit.district, hit.merchant && `商家：${hit.merchant}`, hit.amount && `金额：${hit.amount} 元`]
          .filter(Boolean).map((text) => FM.el("span", { text }))))));
  }

  async function run(push = true) {
    const params = toParams();
    if (push) history.replaceState(null, "", `/staff/complaints?${FM.query({ ...params, page: state.page > 1 ? state.page : "" })}`);
    const problems = contradictions();
    if (problems.length) {
      FM.say(`${problems.join("；")}，这样的条件查不到任何投诉，请调换后再检索。`, "error");
      document.getElementById("hits").replaceChildren();
      document.getElementById("summary").textContent = "";
      return;
    }
    FM.say("正在检索…");
    try {
      const result = await FM.api(`/api/complaints/search?${FM.query({ ...params, page: state.page, size: SIZE, facets: true })}`);
      renderFacets(result.facets);
      renderHits(result);
      const total = result.total.toLocaleString("zh-CN");
      document.getElementById("summary").textContent = [
        result.total_relation === "gte" ? `至少 ${total} 件投诉` : `共 ${total} 件投诉`,
        result.personal_data_masked ? "（个人信息已隐去）" : "",
        result.sampled_newest ? `；匹配太多，分类计数与相关度排序只看最新的 ${result.sampled_newest.toLocaleString("zh-CN")} 件` : "",
      ].join("");
      showPage(state.page, result.total, SIZE);
      FM.say("");
    } catch (error) {
      FM.say(error.message, "error");
    }
  }

  async function exportAs(format) {
    FM.say("正在导出…");
    try {
      const response = await FM.api(`/api/complaints/search/export?${FM.query({ ...toParams(), format })}`, { raw: true, accept: "*/*" });
      FM.downloadBlob(await response.blob(), `投诉检索结果.${format}`);
      FM.say("导出完成。", "ok");
    } catch (error) {
      FM.say(error.message, "error");
    }
  }

  function fillForm() {
    for (const name of ["q", "created_from", "created_to", "amount_min", "amount_max", "sort"]) document.getElementById(name).value = state[name];
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    Object.assign(state, {
      q: data.get("q").trim(), created_from: data.get("created_from"), created_to: data.get("created_to"),
      amount_min: data.get("amount_min"), amount_max: data.get("amount_max"), sort: data.get("sort"), page: 1,
    });
    run();
  });
  document.getElementById("clear").addEventListener("click", () => {
    state = { q: "", created_from: "", created_to: "", amount_min: "", amount_max: "", sort: "relevance", page: 1, picked: Object.fromEntries(FACETS.map(([n]) => [n, []])) };
    fillForm();
    run();
  });
  document.getElementById("export-csv").addEventListener("click", () => exportAs("csv"));
  document.getElementById("export-xlsx").addEventListener("click", () => exportAs("xlsx"));
  fillForm();
  run(false);
})();
