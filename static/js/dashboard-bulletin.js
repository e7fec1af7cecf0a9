// 月通报: the print button (the page's print CSS hides the navigation and fits A4).
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
