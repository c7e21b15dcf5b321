import './styles.css';
import { h, replaceChildren } from './dom';
import { renderCallPage } from './pages/call-page';
import { renderCallsPage } from './pages/calls-page';
import { renderLivePage } from './pages/live-page';
import { renderOverviewPage } from './pages/overview-page';
import { renderSignIn } from './pages/sign-in';
import { setNavigator } from './navigation';
import { apiKey, onSignOut, signOut } from './session';

/** A page renders into <main> and returns what to stop when the user leaves it. */
export type Page = (main: HTMLElement, url: URL, params: string[]) => (() => void) | void;
type Section = 'calls' | 'live' | 'overview';

const ROUTES: Array<[RegExp, Section, Page]> = [
  [/^\/(?:calls\/?)?$/, 'calls', renderCallsPage],
  [/^\/calls\/([^/]+)\/?$/, 'calls', renderCallPage],
  [/^\/live\/?$/, 'live', renderLivePage],
  [/^\/overview\/?$/, 'overview', renderOverviewPage],
];

const app = document.getElementById('app')!;
let leave: (() => void) | undefined;

function render(moveFocus = false): void {
  leave?.();
  leave = undefined;
  if (!apiKey()) {
    renderSignIn(app, () => render(true));
    return;
  }
  const url = new URL(location.href);
  const route = ROUTES.find(([pattern]) => pattern.test(url.pathname));
  const main = h('main', { id: 'main', tabindex: '-1' });
  replaceChildren(app, h('a', { class: 'skip-link', href: '#main' }, 'Skip to content'), topBar(route?.[1]), main);
  if (!route) {
    replaceChildren(main, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '/' }, 'Back to the calls')));
  } else {
    const params = (route[0].exec(url.pathname) ?? []).slice(1).map(decodeURIComponent);
    leave = route[2](main, url, params) ?? undefined;
  }
  if (moveFocus) {
    const heading = main.querySelector('h1') ?? main;
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

function topBar(current: Section | undefined): HTMLElement {
  const link = (href: string, section: Section, label: string) =>
    h('a', { href, 'aria-current': current === section ? 'page' : null }, label);
  return h(
    'header',
    { class: 'topbar' },
    h('a', { class: 'brand', href: '/' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '☎'), 'Call desk'),
    h(
      'nav',
      { 'aria-label': 'Main' },
      link('/', 'calls', 'Calls'),
      link('/live', 'live', 'Live'),
      link('/overview', 'overview', 'Overview'),
    ),
    h('button', { type: 'button', class: 'ghost', onClick: () => signOut() }, 'Sign out'),
  );
}

function navigate(href: string): void {
  history.pushState(null, '', href);
  render(true);
}
setNavigator(navigate);

document.addEventListener('click', (event) => {
  const link = (event.target as Element).closest?.('a');
  if (
    !link ||
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    event.altKey
  )
    return;
  if (link.target || link.hasAttribute('download') || link.getAttribute('href')?.startsWith('#')) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api')) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', () => render(true));
onSignOut(() => render(true));
render();
