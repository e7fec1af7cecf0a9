// 提交成功: copy the tracking code (clipboard API, or select the text so it can be copied by hand).
import { t } from "./api.js";

const button = document.getElementById("copy-code");
const code = document.getElementById(button.dataset.copyTarget);
const status = document.getElementById("copy-status");

function selectCode() {
  const range = document.createRange();
  range.selectNodeContents(code);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

button.addEventListener("click", async () => {
  try {
    if (!navigator.clipboard || !window.isSecureContext) throw new Error("no clipboard");
    await navigator.clipboard.writeText(code.textContent.trim());
    status.textContent = t("copied");
  } catch (error) {
    selectCode();
    status.textContent = t("copy_failed");
  }
});
