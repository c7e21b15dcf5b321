/** Client-side navigation, set up by main.ts (pages call it without importing main). */
let go: (href: string) => void = (href) => location.assign(href);

export function setNavigator(navigator: (href: string) => void): void {
  go = navigator;
}

export function navigate(href: string): void {
  go(href);
}
