import { resolve } from "node:path";
import { defineConfig } from "vite";

// Two pages: the main window and the quick-ask popup. Built into ui/dist, which Tauri
// embeds in the binary (no dev server, no remote content).
export default defineConfig({
  root: "ui",
  base: "./",
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "safari15",
    rollupOptions: {
      input: {
        main: resolve(__dirname, "ui/index.html"),
        popup: resolve(__dirname, "ui/popup.html"),
      },
    },
  },
});
