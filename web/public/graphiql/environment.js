// Runs before GraphiQL's bundle: Monaco (its editor) loads each of its web workers from this origin, by the
// label it asks for (the build writes them: web/vite.config.ts, graphiqlAssets).
self.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl(_moduleId, label) {
    return `/graphiql/worker-${label}.js`;
  },
};
