// Prints the prefix whose include/node holds the running Node's C headers (what node-gyp's
// --nodedir wants), so the addon builds against the Node that runs it and node-gyp never
// downloads headers. Debian's nodejs puts them in /usr/include/node; nodejs.org tarballs and nvm
// beside the binary (<prefix>/bin/node, <prefix>/include/node). Exits 1 with the fix otherwise.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const candidates = [
  path.resolve(path.dirname(process.execPath), '..'),
  process.config.variables.node_prefix,
  '/usr',
  '/usr/local',
].filter(Boolean);

const ok = (prefix) => fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) && fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi'));
const found = [...new Set(candidates.map((p) => path.resolve(p)))].find(ok);
if (!found) {
  process.stderr.write(
    `find-node-headers: Node ${process.version}'s C headers (include/node/node_api.h and common.gypi) are not in ${[...new Set(candidates)].map((p) => path.join(p, 'include/node')).join(', ')}.\n` +
    "  On Debian/Ubuntu they come with the 'nodejs' package from the distribution (or 'libnode-dev' on older releases): apt-get install nodejs;\n" +
    '  a Node.js from nodejs.org or nvm ships them beside its bin/ folder.\n');
  process.exit(1);
}
process.stdout.write(found + '\n');
