// The console's one script, for what plain HTML cannot do: copy a value with one click, and ask
// before an action that cannot be undone. Every page works without it.
'use strict';
document.addEventListener('click', async (event) => {
  const button = event.target.closest('[data-copy]');
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  try {
    await navigator.clipboard.writeText(source.textContent.trim());
    const label = button.textContent;
    button.textContent = button.dataset.copied || 'Copied';
    setTimeout(() => { button.textContent = label; }, 2000);
  } catch {
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
});
document.addEventListener('submit', (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
// A key file chosen in setup step 3 is read into its text area, so that it is sent like a
// pasted key (the file never leaves the browser any other way).
document.addEventListener('change', async (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== 'file' || !input.dataset.fill) return;
  const target = document.getElementById(input.dataset.fill);
  const file = input.files && input.files[0];
  if (!target || !file) return;
  if (file.size > 16384) return;
  target.value = (await file.text()).trim();
});
