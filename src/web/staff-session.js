// Ponte's staff pages: what every page shares about the password session (the cookie
// /signin sets): the link from a page's token form to /signin, which brings the reader back,
// and ending the session on the server when the reader signs out.

// Appends to `form` a line with the link to /signin (back to this page after), reading `text`.
export function addPasswordLink(form, text, lang) {
  const next = location.pathname + location.search + location.hash;
  const link = document.createElement('a');
  link.id = 'signin-password';
  link.href = `/signin?next=${encodeURIComponent(next)}&lang=${encodeURIComponent(lang)}`;
  link.textContent = text;
  const line = document.createElement('p');
  line.className = 'signin-alt';
  line.append(link);
  form.append(line);
}

// Ends the password session on the server; the page empties itself at once either way.
export function endPasswordSession() {
  fetch('/api/auth/sign-out', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'X-Ponte-Csrf': '1' },
  }).catch(() => {});
}
