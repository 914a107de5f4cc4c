// Starts GraphiQL with the options the server wrote into the page as JSON (graphql/graphiql-page.ts), so
// the page carries no inline script.
const options = JSON.parse(document.getElementById('graphiql-options').textContent);
window.YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), options);
