import { describeError } from '../../../src/common/describe-error';
import { api } from '../api';
import { h, replaceChildren } from '../dom';
import { signIn } from '../session';

/** The API key, checked against the API, then kept in session storage. */
export function renderSignIn(root: HTMLElement, signedIn: () => void): void {
  const input = h('input', {
    id: 'api-key',
    name: 'api-key',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    spellcheck: 'false',
  });
  const error = h('p', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit' }, 'Sign in');
  // POST, never GET: even without this script the key must not end up in a URL.
  const form = h(
    'form',
    { class: 'signin-card', method: 'post', action: '/', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '☎'), 'Call desk'),
    h(
      'p',
      { class: 'muted' },
      'Live and past calls of your Millis voice agents. Sign in with the API key of this service (API_KEY).',
    ),
    h(
      'p',
      { class: 'muted hint' },
      'Started on your own machine without API_KEY? The service made a key: it is printed at start-up and kept in data/api-key.',
    ),
    h('label', { for: 'api-key' }, 'API key'),
    input,
    error,
    button,
  );
  const submit = async () => {
    const key = input.value.trim();
    if (!key) return;
    button.disabled = true;
    error.textContent = '';
    try {
      if (await api.check(key)) {
        signIn(key);
        signedIn();
        return;
      }
      error.textContent = 'That key was refused. Check the API_KEY of the service.';
    } catch (failure) {
      error.textContent = `The service did not answer: ${describeError(failure)}`;
    }
    button.disabled = false;
    input.focus();
    input.select();
  };
  // submit() handles its own failures.
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit();
  });
  replaceChildren(root, h('main', { class: 'signin', id: 'main' }, form));
  input.focus();

  // With no key configured, every key would be "refused": say what is really wrong.
  void api
    .authStatus()
    .then(({ api_key_configured }) => {
      if (api_key_configured) return;
      input.disabled = true;
      button.disabled = true;
      form.querySelector('.hint')?.remove();
      error.replaceChildren(
        h('strong', {}, 'This service has no API key configured, '),
        'so no key can sign in. Set API_KEY (16 characters or more) where the service runs and restart it.',
      );
    })
    .catch(() => undefined);
}
