/**
 * The GraphiQL page Yoga serves at /graphql to a browser: a small HTML page whose code comes from files of
 * the web build (/graphiql/*, see web/vite.config.ts), not Yoga's stock page with the whole 9 MB bundle
 * inlined. Yoga's options (title, endpoint, default query, …) travel as JSON in a data block that
 * web/public/graphiql/start.js reads, so no script is inline.
 */
export function renderGraphiqlPage(options?: { title?: string } & Record<string, unknown>): string {
  const title = options?.title ?? 'GraphiQL';
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(title)}</title>
    <link rel="icon" href="/graphiql/favicon.ico" />
    <link rel="stylesheet" href="/graphiql/graphiql.css" />
    <script type="application/json" id="graphiql-options">${jsonForHtml(options ?? {})}</script>
    <script src="/graphiql/environment.js"></script>
    <script src="/graphiql/graphiql.js" defer></script>
    <script src="/graphiql/start.js" defer></script>
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
  </body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that cannot end its <script> element or open a comment: `<` is written as \u003c. */
function jsonForHtml(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}
