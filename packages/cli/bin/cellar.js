#!/usr/bin/env node
// The `cellar` executable. It is committed as plain JavaScript so that npm can link it at install
// time, before `prepare` has compiled the TypeScript it loads.
import "../dist/bin.js";
