#!/usr/bin/env node
// The installed command. It only loads the compiled program, so that the command can be linked
// before the package is built (in the workspace) and the program stays in dist/ with its maps.
import "../dist/bin.js";
