// Applies the theme setting: "system" follows the OS through the media query.
export function applyTheme(theme: string) {
  document.documentElement.dataset.theme = theme;
}
