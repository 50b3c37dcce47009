// Stands in for optional packages the client bundle must not load (see bundle-client.mjs).
export default {};
