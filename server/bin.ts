#!/usr/bin/env node
// The `tigerio-server` command (package.json "bin"): what `npx tigerio-server`
// runs once tigerio is installed. main.ts parses the flags and starts the
// server when loaded; this file exists only so the command is one stable,
// executable path with a shebang, while `npm start` keeps running main.js.
import './main';
