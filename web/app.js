// The page's entry as index.html loads it. The page is TypeScript (src/web/), compiled with the
// modules it shares with the terminal client into dist/browser/ (`npm run build`); this file only
// points there. The path works in both places: in the browser it is /dist/browser/web/app.js,
// which the server serves from the build, and under Node (the unit tests) the file itself.
export * from '../dist/browser/web/app.js';
