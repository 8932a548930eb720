/* 工作人员登录: OAuth2 password flow; the token stays in this tab's sessionStorage. */
"use strict";

(() => {
  const form = document.getElementById("login");
  const HOME = { association_staff: "/staff/inbox" };

  function next(role) {
    const wanted = new URLSearchParams(location.search).get("next") || "";
    // Only same-site paths: never send a freshly signed-in user to another origin.
    return wanted.startsWith("/staff/") && !wanted.startsWith("/staff/login") ? wanted : HOME[role] || "/staff/complaints";
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    FM.say("正在登录…");
    try {
      const token = await FM.api("/api/auth/token", {
        method: "POST",
        body: new URLSearchParams({ username: data.get("username"), password: data.get("password") }),
      });
      const me = await fetch("/api/users/me", { headers: { Authorization: `Bearer ${token.access_token}` } }).then((r) => r.json());
      FM.signIn(token.access_token, me);
      location.assign(next(me.role));
    } catch (error) {
      FM.say(error.status === 401 || error.status === 400 ? "用户名或密码错误。" : error.message, "error");
      document.getElementById("password").select();
    }
  });
})();
