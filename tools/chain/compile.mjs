#!/usr/bin/env node
// Compiles services/blockchain/contracts/*.sol with the pinned solc-js (standard JSON) and writes
// one artifact per deployable contract to services/blockchain/contracts/build/<Name>.json:
//   {"contractName", "compiler", "abi", "bytecode"}
// Artifacts hold nothing that varies between runs or machines: source unit names are
// "contracts/<File>.sol" and "@openzeppelin/contracts/...", never absolute paths.
//
//   node tools/chain/compile.mjs           compile and (re)write the artifacts
//   node tools/chain/compile.mjs --check   compile in memory; exit 1 naming every artifact
//                                          that is missing, stale or extra
// Any compiler error fails the run (exit 1) after printing every diagnostic.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const contractsDir = path.join(repoRoot, 'services', 'blockchain', 'contracts');
const buildDir = path.join(contractsDir, 'build');
const nodeModules = path.join(here, 'node_modules');

const SOURCE_PREFIX = 'contracts/';
const LIBRARY_PREFIXES = ['@openzeppelin/contracts/'];

const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
};

function readSources() {
  const files = fs.readdirSync(contractsDir).filter((f) => f.endsWith('.sol')).sort();
  if (files.length === 0) throw new Error(`no .sol files in ${path.relative(repoRoot, contractsDir)}`);
  const sources = {};
  for (const f of files) {
    sources[SOURCE_PREFIX + f] = { content: fs.readFileSync(path.join(contractsDir, f), 'utf8') };
  }
  return sources;
}

// Resolves imports that are not among our own sources: only the pinned libraries, only inside
// their package folder.
function findImport(unitName) {
  const normalized = path.posix.normalize(unitName);
  const prefix = LIBRARY_PREFIXES.find((p) => normalized.startsWith(p));
  if (!prefix || normalized !== unitName) {
    return { error: `import "${unitName}" is outside ${LIBRARY_PREFIXES.join(', ')}` };
  }
  try {
    return { contents: fs.readFileSync(path.join(nodeModules, ...normalized.split('/')), 'utf8') };
  } catch (e) {
    return { error: `cannot read "${unitName}" from tools/chain/node_modules (run npm ci there): ${e.code}` };
  }
}

function compile() {
  const input = { language: 'Solidity', sources: readSources(), settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const diagnostics = output.errors ?? [];
  for (const d of diagnostics) process.stderr.write(d.formattedMessage ?? `${d.severity}: ${d.message}\n`);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    throw new Error(`solc reported ${errors.length} error(s)`);
  }

  const compiler = solc.version();
  const artifacts = new Map(); // contract name -> file text
  for (const unit of Object.keys(output.contracts ?? {}).sort()) {
    if (!unit.startsWith(SOURCE_PREFIX)) continue; // library contracts are not deployed on their own
    for (const name of Object.keys(output.contracts[unit]).sort()) {
      const c = output.contracts[unit][name];
      const object = c.evm?.bytecode?.object ?? '';
      if (object.length === 0) continue; // interfaces and abstract contracts
      if (artifacts.has(name)) throw new Error(`two deployable contracts are named ${name}`);
      const artifact = { contractName: name, compiler, abi: c.abi, bytecode: `0x${object}` };
      artifacts.set(name, `${JSON.stringify(artifact, null, 2)}\n`);
    }
  }
  if (artifacts.size === 0) throw new Error('no deployable contract');
  return artifacts;
}

function existingArtifacts() {
  if (!fs.existsSync(buildDir)) return [];
  return fs.readdirSync(buildDir).filter((f) => f.endsWith('.json')).sort();
}

function check(artifacts) {
  const problems = [];
  for (const [name, text] of artifacts) {
    const file = path.join(buildDir, `${name}.json`);
    const rel = path.relative(repoRoot, file);
    if (!fs.existsSync(file)) problems.push(`${rel}: missing`);
    else if (fs.readFileSync(file, 'utf8') !== text) problems.push(`${rel}: differs from a fresh compile`);
  }
  for (const f of existingArtifacts()) {
    if (!artifacts.has(f.slice(0, -'.json'.length))) {
      problems.push(`${path.relative(repoRoot, path.join(buildDir, f))}: no contract produces it`);
    }
  }
  for (const p of problems) console.error(p);
  if (problems.length > 0) {
    console.error('artifacts are not reproducible from the sources: run node tools/chain/compile.mjs');
    return 1;
  }
  console.log(`${artifacts.size} artifacts match a fresh compile (${solc.version()})`);
  return 0;
}

function write(artifacts) {
  fs.mkdirSync(buildDir, { recursive: true });
  for (const f of existingArtifacts()) {
    if (!artifacts.has(f.slice(0, -'.json'.length))) fs.rmSync(path.join(buildDir, f));
  }
  for (const [name, text] of artifacts) {
    const file = path.join(buildDir, `${name}.json`);
    if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) fs.writeFileSync(file, text);
  }
  console.log(`wrote ${[...artifacts.keys()].join(', ')} to ${path.relative(repoRoot, buildDir)}`);
  return 0;
}

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--check');
if (unknown.length > 0) {
  console.error(`usage: node compile.mjs [--check]  (unknown: ${unknown.join(' ')})`);
  process.exit(2);
}
try {
  const artifacts = compile();
  process.exit(args.includes('--check') ? check(artifacts) : write(artifacts));
} catch (e) {
  console.error(`compile.mjs: ${e.message}`);
  process.exit(1);
}
