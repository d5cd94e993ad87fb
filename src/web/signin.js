// Ponte staff sign-in page: the user name and password form. On success the server sets the
// session cookie (HttpOnly, so this script never sees it) and the page goes on to `?next=`
// (a path of this site only) or to the signed-in role's own page. Texts in pt-BR, es and en;
// an error is told from its stable code.

const TEXTS = {
  'pt-BR': {
    title: 'Ponte · Entrar',
    heading: 'Entrar',
    hint: 'A equipe entra com o nome de usuário e a senha que um administrador lhe deu.',
    username: 'Nome de usuário',
    password: 'Senha',
    submit: 'Entrar',
    busy: 'Entrando…',
    token: 'Entrar com um token de acesso',
    missing: 'Informe o nome de usuário e a senha.',
    invalid_credentials: 'Nome de usuário ou senha incorretos.',
    too_many_attempts: (s) => `Muitas tentativas sem sucesso. Tente de novo em ${minutes(s, 'pt-BR')}.`,
    unavailable: 'A entrada com senha não está disponível neste servidor.',
    other: 'Não foi possível entrar agora. Tente de novo.',
  },
  es: {
    title: 'Ponte · Iniciar sesión',
    heading: 'Iniciar sesión',
    hint: 'El equipo inicia sesión con el nombre de usuario y la contraseña que le dio un administrador.',
    username: 'Nombre de usuario',
    password: 'Contraseña',
    submit: 'Iniciar sesión',
    busy: 'Iniciando sesión…',
    token: 'Iniciar sesión con un token de acceso',
    missing: 'Indique el nombre de usuario y la contraseña.',
    invalid_credentials: 'El nombre de usuario o la contraseña no son correctos.',
    too_many_attempts: (s) => `Demasiados intentos fallidos. Vuelva a intentarlo en ${minutes(s, 'es')}.`,
    unavailable: 'El inicio de sesión con contraseña no está disponible en este servidor.',
    other: 'No fue posible iniciar sesión ahora. Vuelva a intentarlo.',
  },
  en: {
    title: 'Ponte · Sign in',
    heading: 'Sign in',
    hint: 'Staff sign in with the user name and password an administrator gave them.',
    username: 'User name',
    password: 'Password',
    submit: 'Sign in',
    busy: 'Signing in…',
    token: 'Sign in with an access token instead',
    missing: 'Enter the user name and the password.',
    invalid_credentials: 'The user name or the password is wrong.',
    too_many_attempts: (s) => `Too many failed attempts. Try again in ${minutes(s, 'en')}.`,
    unavailable: 'Password sign-in is not available on this server.',
    other: 'Signing in failed just now. Please try again.',
  },
};

// "3 minutes" in the reader's language, from seconds.
function minutes(seconds, lang) {
  const count = Math.max(1, Math.ceil(seconds / 60));
  const words = { 'pt-BR': ['minuto', 'minutos'], es: ['minuto', 'minutos'], en: ['minute', 'minutes'] };
  const [one, many] = words[lang];
  return `${count} ${count === 1 ? one : many}`;
}

function pickLanguage() {
  const asked = new URLSearchParams(location.search).get('lang');
  const wanted = asked ? [asked] : (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en']);
  for (const tag of wanted) {
    const lower = String(tag).toLowerCase();
    if (lower.startsWith('pt')) return 'pt-BR';
    if (lower.startsWith('es')) return 'es';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

const LANG = pickLanguage();
const T = TEXTS[LANG];

// Where to go after signing in: `?next=` when it is a path of this site, else the role's page.
function destination(role) {
  const next = new URLSearchParams(location.search).get('next') || '';
  if (next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\')) return next;
  const home = { attendant: '/console', analyst: '/console', knowledge_manager: '/knowledge', admin: '/admin' };
  return home[role] || '/console';
}

function translate() {
  document.documentElement.lang = LANG;
  document.title = T.title;
  for (const node of document.querySelectorAll('[data-i18n]')) {
    const text = T[node.dataset.i18n];
    if (typeof text === 'string') node.textContent = text;
  }
  const next = new URLSearchParams(location.search).get('next');
  if (next && next.startsWith('/') && !next.startsWith('//')) {
    document.getElementById('token-link').href = next;
  }
}

async function signIn(event) {
  event.preventDefault();
  const form = document.getElementById('form');
  const error = document.getElementById('error');
  const submit = document.getElementById('submit');
  const username = form.username.value.trim();
  const password = form.password.value;
  error.textContent = '';
  if (!username || !password) {
    error.textContent = T.missing;
    (username ? form.password : form.username).focus();
    return;
  }
  submit.disabled = true;
  submit.textContent = T.busy;
  try {
    const response = await fetch('/api/auth/sign-in', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Ponte-Csrf': '1' },
      body: JSON.stringify({ username, password }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      location.assign(destination(body.role));
      return;
    }
    const code = body.code || '';
    if (code === 'too_many_attempts') {
      error.textContent = T.too_many_attempts(Number(response.headers.get('Retry-After')) || 60);
    } else if (code === 'invalid_credentials' || code === 'unavailable') {
      error.textContent = T[code];
    } else {
      error.textContent = T.other;
    }
    form.password.value = '';
    form.password.focus();
  } catch (_) {
    error.textContent = T.other;
  } finally {
    submit.disabled = false;
    submit.textContent = T.submit;
  }
}

translate();
document.getElementById('form').addEventListener('submit', signIn);
document.getElementById('username').focus();
