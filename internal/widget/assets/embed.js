// Embeds Baton's chat on any page: <script src="https://baton.example/chat/embed.js" async></script>
// Optional: data-identity and data-identity-signature (HMAC computed by the host's server with
// BATON_CHAT_IDENTITY_SECRET) to recognise a signed-in customer.
(() => {
  const s = document.currentScript;
  if (!s) return;
  const base = new URL(s.src).origin;
  let hash = "";
  if (s.dataset.identity) {
    hash = "#" + new URLSearchParams({ identity: s.dataset.identity, identity_signature: s.dataset.identitySignature || "" });
  }
  const btn = document.createElement("button");
  btn.type = "button";
  btn.textContent = s.dataset.label || "Chat with us";
  btn.setAttribute("aria-expanded", "false");
  btn.setAttribute("aria-controls", "baton-chat");
  btn.style.cssText = "position:fixed;right:16px;bottom:16px;z-index:2147483000;font:600 16px system-ui,sans-serif;" +
    "padding:12px 18px;border:0;border-radius:24px;background:#1f4fd1;color:#fff;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.25)";
  let frame = null;
  btn.addEventListener("click", () => {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.id = "baton-chat";
      frame.title = "Chat with us";
      frame.src = base + "/chat?embed=1" + hash;
      frame.style.cssText = "position:fixed;right:16px;bottom:76px;z-index:2147483000;width:min(380px,calc(100vw - 32px));" +
        "height:min(600px,calc(100vh - 96px));border:0;border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.3);background:#fff";
      document.body.append(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
    const open = !frame.hidden;
    btn.setAttribute("aria-expanded", String(open));
    if (open) frame.focus();
  });
  document.body.append(btn);
})();
