export * from "./errors.js";
export * from "./reference.js";
export * from "./image-key.js";
export * from "./image-name.js";
export * from "./qualified-reference.js";
export * from "./image-ref.js";
export * from "./repository-without-credentials.js";
