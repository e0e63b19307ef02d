import { mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

// Every CLI test starts node processes (about a second each on a loaded machine), and the
// concurrent suites run many at once: they get more time than the workspace default.
export default mergeConfig(shared, { test: { testTimeout: 90_000, hookTimeout: 90_000 } });
