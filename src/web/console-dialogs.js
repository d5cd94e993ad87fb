// Ponte — attendants' console: the modal dialogs' common behaviour (open with the first field
// focused, submit with the error shown in the dialog, dismiss, give focus back).

import { $ } from "./console-dom.js";

export function showDialog(id) {
  const dialog = $(id);
  for (const error of dialog.querySelectorAll(".error")) error.textContent = "";
  if (typeof dialog.showModal === "function") dialog.showModal();
  else dialog.setAttribute("open", "");
  const first = dialog.querySelector("select, input, textarea, button:not([data-dismiss])");
  if (first) first.focus();
}

/** Wires dialog `id`: its dismiss buttons, its form's submit running `onSubmit` (a truthy
 *  answer keeps the dialog open; a thrown error shows in it), focus back on close to the
 *  element named by its `data-return-focus`. */
export function setupDialog(id, onSubmit) {
  const dialog = $(id);
  const form = dialog.querySelector("form");
  for (const dismiss of dialog.querySelectorAll("[data-dismiss]")) {
    dismiss.addEventListener("click", () => dialog.close());
  }
  if (onSubmit) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = form.querySelector(".error");
      if (error) error.textContent = "";
      const submit = form.querySelector('[type="submit"]');
      if (submit) submit.disabled = true;
      try {
        const keepOpen = await onSubmit();
        if (!keepOpen) dialog.close();
      } catch (failure) {
        if (error) error.textContent = failure.message;
      } finally {
        if (submit) submit.disabled = false;
      }
    });
  }
  dialog.addEventListener("close", () => {
    const back = dialog.dataset.returnFocus && $(dialog.dataset.returnFocus);
    if (back && !back.disabled && !back.hidden) back.focus();
  });
}
