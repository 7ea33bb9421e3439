// Contract tests against a real local node: starts anvil on a free loopback port, deploys the
// committed artifacts (services/blockchain/contracts/build, never recompiled here), and checks
// each contract's rules. Also runs `node compile.mjs --check` (reproducibility) alongside.
//
//   cd tools/chain && node --test test/

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ethers } from 'ethers';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import * as raw from 'multiformats/codecs/raw';

const here = path.dirname(fileURLToPath(import.meta.url));
const chainDir = path.resolve(here, '..');
const buildDir = path.resolve(chainDir, '..', '..', 'services', 'blockchain', 'contracts', 'build');
// The npm wrapper (node_modules/.bin/anvil) runs the native binary of the optional package
// @foundry-rs/anvil-<os>-<arch>. It re-raises SIGTERM on itself before its child has exited,
// which orphans the child; spawning that binary directly makes this process its parent.
const anvilNative = path.join(chainDir, 'node_modules', '@foundry-rs',
  `anvil-${process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`, 'bin', 'anvil');
const anvilBin = fs.existsSync(anvilNative) ? anvilNative : path.join(chainDir, 'node_modules', '.bin', 'anvil');

const CHAIN_ID = 31337n;
const START_TIMEOUT_MS = 15_000;
const MAGNITUDE = 2n ** 128n;
const MIN_DELAY = 3600;
const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;
const role = (name) => ethers.id(name);

// ---------------------------------------------------------------------------------------------
// anvil and the reproducibility check, both started once for the whole file

let anvil;
let anvilLog = '';
let provider;
let accounts; // JsonRpcSigners of anvil's ten unlocked dev accounts
let checkRun; // Promise<{code, output}> of `node compile.mjs --check`

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function runCheck() {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(chainDir, 'compile.mjs'), '--check'], {
      cwd: chainDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

async function rpc(url, method, params = []) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(1000),
  });
  return (await res.json()).result;
}

async function startAnvil() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Its own process group, so that stopping it also stops a child (the wrapper's case).
  anvil = spawn(anvilBin, ['--host', '127.0.0.1', '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  anvil.stdout.on('data', (d) => (anvilLog = (anvilLog + d).slice(-4000)));
  anvil.stderr.on('data', (d) => (anvilLog = (anvilLog + d).slice(-4000)));
  const exited = new Promise((resolve) => anvil.once('exit', (code) => resolve(code)));

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r(undefined), 100))]);
    if (code !== undefined) throw new Error(`anvil exited with ${code}:\n${anvilLog}`);
    try {
      if (BigInt(await rpc(url, 'eth_chainId')) === CHAIN_ID) return url;
    } catch {
      // not listening yet
    }
  }
  throw new Error(`anvil did not answer eth_chainId within ${START_TIMEOUT_MS} ms:\n${anvilLog}`);
}

function stopAnvil(signal = 'SIGTERM') {
  if (anvil && anvil.exitCode === null && anvil.signalCode === null) {
    try {
      process.kill(-anvil.pid, signal);
    } catch {
      // already gone
    }
  }
}
process.on('exit', () => stopAnvil('SIGKILL'));

async function stopAnvilAndWait() {
  if (!anvil || anvil.exitCode !== null || anvil.signalCode !== null) return;
  const exited = new Promise((resolve) => anvil.once('exit', resolve));
  stopAnvil('SIGTERM');
  const timer = setTimeout(() => stopAnvil('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

before(async () => {
  checkRun = runCheck();
  const url = await startAnvil();
  provider = new ethers.JsonRpcProvider(url, Number(CHAIN_ID), {
    staticNetwork: true,
    pollingInterval: 50,
    cacheTimeout: -1,
  });
  accounts = await Promise.all([...Array(10).keys()].map((i) => provider.getSigner(i)));
});

after(async () => {
  provider?.destroy();
  await stopAnvilAndWait();
  await checkRun; // never leave the child behind
});

// ---------------------------------------------------------------------------------------------
// helpers

function artifact(name) {
  return JSON.parse(fs.readFileSync(path.join(buildDir, `${name}.json`), 'utf8'));
}

async function deploy(name, signer, ...args) {
  const { abi, bytecode } = artifact(name);
  const contract = await new ethers.ContractFactory(abi, bytecode, signer).deploy(...args);
  await contract.waitForDeployment();
  return contract;
}

async function send(txPromise) {
  const tx = await txPromise;
  const receipt = await tx.wait();
  assert.equal(receipt.status, 1);
  return receipt;
}

// Every custom error of every artifact, to decode reverts that ethers reports undecoded (a
// JsonRpcSigner's gas estimate fails before the contract's ABI is consulted).
let allErrors;
function decodeRevert(error) {
  if (error.revert) return error.revert;
  if (!allErrors) {
    const fragments = new Map();
    for (const f of fs.readdirSync(buildDir).filter((n) => n.endsWith('.json'))) {
      for (const item of JSON.parse(fs.readFileSync(path.join(buildDir, f), 'utf8')).abi) {
        if (item.type === 'error') fragments.set(ethers.ErrorFragment.from(item).format('sighash'), item);
      }
    }
    allErrors = new ethers.Interface([...fragments.values()]);
  }
  const data = error.data ?? error.info?.error?.data;
  if (typeof data !== 'string' || data.length < 10) return null;
  const parsed = allErrors.parseError(data);
  return parsed && { name: parsed.name, args: parsed.args };
}

/** Asserts that the transaction reverts with the custom error `name`; returns its arguments. */
async function expectRevert(txPromise, name) {
  let error;
  try {
    await (await txPromise).wait();
  } catch (e) {
    error = e;
  }
  assert.ok(error, `expected a revert with ${name}, but the transaction succeeded`);
  const revert = decodeRevert(error);
  assert.equal(revert?.name, name, `expected ${name}, got: ${revert?.name ?? error.shortMessage ?? error}`);
  return [...revert.args];
}

/** The parsed events `name` that `contract` emitted in `receipt`. */
function events(receipt, contract, name) {
  const target = contract.target.toLowerCase();
  return receipt.logs
    .filter((log) => log.address.toLowerCase() === target)
    .map((log) => contract.interface.parseLog(log))
    .filter((ev) => ev && ev.name === name)
    .map((ev) => ev.args);
}

async function cidOf(text) {
  return CID.create(1, raw.code, await sha256.digest(new TextEncoder().encode(text))).toString();
}

/**
 * The platform as deployed: a timelock administers everything, the operator key holds every
 * operational role, the treasury (registered in the registry first) receives all shares.
 */
async function deployPlatform({ totalShares = 1000n, issuePriceMinor = 250_000n } = {}) {
  const [deployer, adminKey, operator, treasury] = accounts;
  const timelock = await deploy('PlatformTimelock', deployer, MIN_DELAY, [adminKey.address], [adminKey.address], ethers.ZeroAddress);
  const admin = await timelock.getAddress();
  const registry = await deploy('IdentityRegistry', deployer, admin, operator.address);
  const payment = await deploy('PaymentToken', deployer, 'Local INR stablecoin', 'INRL', admin, operator.address);
  const deed = await deploy('PropertyDeed', deployer, 'REST-iN-U Property Deed', 'RIUDEED', admin, operator.address);
  await send(registry.connect(operator).registerIdentity(treasury.address));
  const propertyId = ethers.zeroPadBytes('0x8f14e45fceea467a9c4e4e2a7c1b0d31', 32);
  const shares = await deploy(
    'PropertyShares', deployer, 'Sea View 4B shares', 'RIU-SV4B', propertyId, totalShares, issuePriceMinor,
    treasury.address, await registry.getAddress(), await payment.getAddress(), admin, operator.address,
  );
  return { timelock, registry, payment, deed, shares, propertyId };
}

// ---------------------------------------------------------------------------------------------

describe('PropertyDeed', () => {
  let p;
  let operator, alice, bob, outsider;
  before(async () => {
    [, , operator, , alice, bob, , outsider] = accounts;
    p = await deployPlatform();
  });

  test('the registrar mints with tokenURI ipfs://<cid>', async () => {
    const cid = await cidOf('deed of Sea View 4B');
    const receipt = await send(p.deed.connect(operator).mint(alice.address, 1n, cid));
    assert.equal(await p.deed.tokenURI(1n), `ipfs://${cid}`);
    assert.equal(await p.deed.ownerOf(1n), alice.address);
    const [t] = events(receipt, p.deed, 'Transfer');
    assert.deepEqual([t.from, t.to, t.tokenId], [ethers.ZeroAddress, alice.address, 1n]);
  });

  test('the holder can neither transfer nor approve', async () => {
    const d = p.deed.connect(alice);
    await expectRevert(d.transferFrom(alice.address, bob.address, 1n), 'DeedTransferRestricted');
    await expectRevert(
      d['safeTransferFrom(address,address,uint256)'](alice.address, bob.address, 1n), 'DeedTransferRestricted');
    await expectRevert(d.approve(bob.address, 1n), 'DeedApprovalDisabled');
    await expectRevert(d.setApprovalForAll(bob.address, true), 'DeedApprovalDisabled');
    // Even the registrar cannot use the holder's path.
    await expectRevert(
      p.deed.connect(operator).transferFrom(alice.address, bob.address, 1n), 'DeedTransferRestricted');
    assert.equal(await p.deed.ownerOf(1n), alice.address);
  });

  test('registrarTransfer moves the deed and emits Transfer', async () => {
    const receipt = await send(p.deed.connect(operator).registrarTransfer(alice.address, bob.address, 1n));
    assert.equal(await p.deed.ownerOf(1n), bob.address);
    const [t] = events(receipt, p.deed, 'Transfer');
    assert.deepEqual([t.from, t.to, t.tokenId], [alice.address, bob.address, 1n]);
    await expectRevert(
      p.deed.connect(operator).registrarTransfer(alice.address, bob.address, 1n), 'ERC721IncorrectOwner');
  });

  test('only the registrar mints or moves, and a CID is required', async () => {
    const cid = await cidOf('another deed');
    const args = await expectRevert(p.deed.connect(outsider).mint(outsider.address, 2n, cid),
      'AccessControlUnauthorizedAccount');
    assert.deepEqual(args, [outsider.address, role('REGISTRAR_ROLE')]);
    await expectRevert(p.deed.connect(bob).registrarTransfer(bob.address, alice.address, 1n),
      'AccessControlUnauthorizedAccount');
    await expectRevert(p.deed.connect(operator).mint(alice.address, 2n, ''), 'DeedEmptyCid');
    await expectRevert(p.deed.connect(operator).mint(alice.address, 1n, cid), 'ERC721InvalidSender');
    await expectRevert(p.deed.tokenURI(2n), 'ERC721NonexistentToken');
  });
});

describe('PropertyShares', () => {
  let p;
  let deployer, operator, treasury, alice, bob, outsider, replacement;
  before(async () => {
    [deployer, , operator, treasury, alice, bob, , outsider, replacement] = accounts;
    p = await deployPlatform();
  });

  test('the treasury holds the whole supply of whole shares', async () => {
    assert.equal(await p.shares.decimals(), 0n);
    assert.equal(await p.shares.totalSupply(), 1000n);
    assert.equal(await p.shares.balanceOf(treasury.address), 1000n);
    assert.equal(await p.shares.issuePriceMinor(), 250_000n);
    assert.equal(await p.shares.propertyId(), p.propertyId);
    assert.equal(await p.shares.identityRegistry(), await p.registry.getAddress());
    assert.equal(await p.shares.paymentToken(), await p.payment.getAddress());
  });

  test('deployment fails when the treasury is not verified', async () => {
    const admin = await p.timelock.getAddress();
    await expectRevert(
      deploy('PropertyShares', deployer, 'X', 'X', ethers.ZeroHash, 10n, 1n, outsider.address,
        await p.registry.getAddress(), await p.payment.getAddress(), admin, operator.address),
      'SharesReceiverNotVerified');
  });

  test('a transfer to an unregistered wallet reverts and changes nothing', async () => {
    const args = await expectRevert(p.shares.connect(treasury).transfer(alice.address, 100n),
      'SharesReceiverNotVerified');
    assert.deepEqual(args, [alice.address]);
    // The allowance path is checked too.
    await send(p.shares.connect(treasury).approve(outsider.address, 100n));
    await expectRevert(p.shares.connect(outsider).transferFrom(treasury.address, alice.address, 100n),
      'SharesReceiverNotVerified');
    assert.equal(await p.shares.balanceOf(treasury.address), 1000n);
    assert.equal(await p.shares.balanceOf(alice.address), 0n);
  });

  test('after registerIdentity the transfer succeeds', async () => {
    const receipt = await send(p.registry.connect(operator).registerIdentity(alice.address));
    const [ev] = events(receipt, p.registry, 'IdentityRegistered');
    assert.deepEqual([ev.wallet, ev.agent], [alice.address, operator.address]);
    assert.equal(await p.registry.isVerified(alice.address), true);
    await send(p.shares.connect(treasury).transfer(alice.address, 100n));
    assert.equal(await p.shares.balanceOf(alice.address), 100n);
    assert.equal(await p.shares.balanceOf(treasury.address), 900n);
    await expectRevert(p.registry.connect(outsider).registerIdentity(outsider.address),
      'AccessControlUnauthorizedAccount');
    await expectRevert(p.registry.connect(operator).registerIdentity(alice.address), 'IdentityAlreadyRegistered');
  });

  test('a wallet removed from the registry cannot send', async () => {
    await send(p.registry.connect(operator).registerIdentity(bob.address));
    const receipt = await send(p.registry.connect(operator).deleteIdentity(alice.address));
    assert.equal(events(receipt, p.registry, 'IdentityRemoved').length, 1);
    const args = await expectRevert(p.shares.connect(alice).transfer(bob.address, 10n), 'SharesSenderNotVerified');
    assert.deepEqual(args, [alice.address]);
    assert.equal(await p.shares.balanceOf(alice.address), 100n);
    await send(p.registry.connect(operator).registerIdentity(alice.address));
    await send(p.shares.connect(alice).transfer(bob.address, 10n));
    assert.equal(await p.shares.balanceOf(bob.address), 10n);
  });

  test('pause stops transfers until unpause; only the pauser pauses', async () => {
    await expectRevert(p.shares.connect(outsider).pause(), 'AccessControlUnauthorizedAccount');
    await send(p.shares.connect(operator).pause());
    await expectRevert(p.shares.connect(alice).transfer(bob.address, 1n), 'EnforcedPause');
    await send(p.shares.connect(operator).unpause());
    await send(p.shares.connect(alice).transfer(bob.address, 1n));
    assert.equal(await p.shares.balanceOf(bob.address), 11n);
  });

  test('recoveryTransfer moves a lost wallet\'s shares and unclaimed rent, even while paused', async () => {
    // Rent for the lost wallet: 1000 paise over 1000 shares, alice holds 89.
    await send(p.payment.connect(operator).mint(operator.address, 1000n));
    await send(p.payment.connect(operator).approve(await p.shares.getAddress(), 1000n));
    await send(p.shares.connect(operator).depositRent(1000n));
    assert.equal(await p.shares.withdrawableRentOf(alice.address), 89n);

    await send(p.registry.connect(operator).deleteIdentity(alice.address));
    await send(p.registry.connect(operator).registerIdentity(replacement.address));
    await send(p.shares.connect(operator).pause());
    await expectRevert(p.shares.connect(outsider).recoveryTransfer(alice.address, replacement.address),
      'AccessControlUnauthorizedAccount');
    await expectRevert(p.shares.connect(operator).recoveryTransfer(alice.address, outsider.address),
      'SharesReceiverNotVerified');

    const receipt = await send(p.shares.connect(operator).recoveryTransfer(alice.address, replacement.address));
    const [rec] = events(receipt, p.shares, 'Recovered');
    assert.deepEqual([rec.lost, rec.replacement, rec.amount], [alice.address, replacement.address, 89n]);
    const [moved] = events(receipt, p.shares, 'RentEntitlementMoved');
    assert.equal(moved.amount, 89n);
    assert.equal(await p.shares.balanceOf(alice.address), 0n);
    assert.equal(await p.shares.balanceOf(replacement.address), 89n);
    assert.equal(await p.shares.withdrawableRentOf(alice.address), 0n);
    assert.equal(await p.shares.withdrawableRentOf(replacement.address), 89n);
    await expectRevert(p.shares.connect(operator).recoveryTransfer(alice.address, replacement.address),
      'RecoveryNothingToMove');
    assert.equal(await p.shares.paused(), true);
    await send(p.shares.connect(operator).unpause());

    await send(p.shares.connect(replacement).claimRent());
    assert.equal(await p.payment.balanceOf(replacement.address), 89n);
  });
});

describe('rent distribution', () => {
  let p;
  let operator, treasury, alice, bob, carol, outsider;
  before(async () => {
    [, , operator, treasury, alice, bob, carol, outsider] = accounts;
    p = await deployPlatform({ totalShares: 1000n });
    for (const who of [alice, bob, carol]) await send(p.registry.connect(operator).registerIdentity(who.address));
    await send(p.payment.connect(operator).mint(operator.address, 100_000_000n));
    await send(p.payment.connect(operator).approve(await p.shares.getAddress(), ethers.MaxUint256));
  });

  test('depositRent is for the distributor only, and never zero', async () => {
    const args = await expectRevert(p.shares.connect(outsider).depositRent(100n), 'AccessControlUnauthorizedAccount');
    assert.deepEqual(args, [outsider.address, role('DISTRIBUTOR_ROLE')]);
    await expectRevert(p.shares.connect(operator).depositRent(0n), 'RentZeroAmount');
  });

  test('three holders, transfers between deposits: each claim is the exact pro-rata share', async () => {
    const holders = { treasury, alice, bob, carol };
    const names = Object.keys(holders);
    const supply = await p.shares.totalSupply();
    const balance = Object.fromEntries(names.map((n) => [n, 0n]));
    balance.treasury = supply;
    // exactNum[n] / supply is n's exact rational entitlement; magnified[n] is the contract's
    // arithmetic replayed (per-share floor with the remainder carried to the next deposit).
    const exactNum = Object.fromEntries(names.map((n) => [n, 0n]));
    const magnified = Object.fromEntries(names.map((n) => [n, 0n]));
    const claimed = Object.fromEntries(names.map((n) => [n, 0n]));
    let carry = 0n;
    let deposited = 0n;

    const move = async (from, to, value) => {
      await send(p.shares.connect(holders[from]).transfer(holders[to].address, value));
      balance[from] -= value;
      balance[to] += value;
    };
    const depositRent = async (amount) => {
      const receipt = await send(p.shares.connect(operator).depositRent(amount));
      const numerator = amount * MAGNITUDE + carry;
      const perShare = numerator / supply;
      carry = numerator % supply;
      for (const n of names) {
        exactNum[n] += amount * balance[n];
        magnified[n] += perShare * balance[n];
      }
      deposited += amount;
      const [ev] = events(receipt, p.shares, 'RentDeposited');
      assert.deepEqual([ev.by, ev.amount], [operator.address, amount]);
      assert.equal(ev.magnifiedPerShare, await p.shares.magnifiedRentPerShare());
      assert.equal(await p.shares.magnifiedRentRemainder(), carry);
    };
    const claim = async (n) => {
      const before = await p.payment.balanceOf(holders[n].address);
      const receipt = await send(p.shares.connect(holders[n]).claimRent());
      const paid = (await p.payment.balanceOf(holders[n].address)) - before;
      const evs = events(receipt, p.shares, 'RentClaimed');
      assert.equal(evs.length, paid > 0n ? 1 : 0);
      if (paid > 0n) assert.deepEqual([evs[0].holder, evs[0].amount], [holders[n].address, paid]);
      claimed[n] += paid;
      return paid;
    };

    await move('treasury', 'alice', 300n);
    await move('treasury', 'bob', 200n);
    await move('treasury', 'carol', 100n);
    await depositRent(100_001n); // 100.01 INR: 100001 * 300 / 1000 is not whole
    assert.equal(await p.shares.withdrawableRentOf(alice.address), 30_000n); // exactly 30000.3
    await move('alice', 'bob', 50n);
    await move('carol', 'alice', 33n);
    await move('treasury', 'carol', 7n);
    // Transfers move no earned rent.
    assert.equal(await p.shares.withdrawableRentOf(alice.address), 30_000n);
    await depositRent(77_777n);
    assert.ok((await claim('alice')) > 0n);
    await move('bob', 'carol', 120n);
    await depositRent(1_234_567n);

    for (const n of names) await claim(n);

    let sumClaims = 0n;
    for (const n of names) {
      const c = claimed[n];
      sumClaims += c;
      assert.equal(c, magnified[n] / MAGNITUDE, `${n}: claim differs from the contract's arithmetic`);
      // Documented bound: E - 1 <= C <= E, and C == floor(E) unless E is whole.
      assert.ok(c * supply <= exactNum[n], `${n}: claimed ${c} exceeds exact ${exactNum[n]}/${supply}`);
      assert.ok(exactNum[n] - c * supply <= supply, `${n}: short by a paisa or more`);
      if (exactNum[n] % supply !== 0n) assert.equal(c, exactNum[n] / supply, `${n}: not floor(exact)`);
      assert.equal(await p.shares.claimedRentOf(holders[n].address), c);
      assert.equal(await p.shares.withdrawableRentOf(holders[n].address), 0n);
    }
    // The amounts were chosen so that rounding leaves something behind.
    assert.ok(names.some((n) => exactNum[n] % supply !== 0n));

    const remainder = await p.payment.balanceOf(await p.shares.getAddress());
    assert.equal(sumClaims + remainder, deposited);
    assert.equal(await p.shares.totalRentDeposited(), deposited);
    assert.equal(await p.shares.totalRentClaimed(), sumClaims);
    assert.ok(remainder <= BigInt(names.length), `remainder ${remainder} above one paisa per holder`);

    // A second claim pays nothing.
    for (const n of names) {
      assert.equal(await p.shares.connect(holders[n]).claimRent.staticCall(), 0n);
      assert.equal(await claim(n), 0n);
    }
    assert.equal(await p.payment.balanceOf(await p.shares.getAddress()), remainder);
  });

  test('a wallet removed from the registry keeps earning but cannot claim until verified again', async () => {
    await send(p.shares.connect(operator).depositRent(10_000n));
    const owed = await p.shares.withdrawableRentOf(carol.address);
    assert.ok(owed > 0n);
    await send(p.registry.connect(operator).deleteIdentity(carol.address));
    await expectRevert(p.shares.connect(carol).claimRent(), 'RentClaimerNotVerified');
    assert.equal(await p.shares.withdrawableRentOf(carol.address), owed);
    await send(p.registry.connect(operator).registerIdentity(carol.address));
    const before = await p.payment.balanceOf(carol.address);
    await send(p.shares.connect(carol).claimRent());
    assert.equal((await p.payment.balanceOf(carol.address)) - before, owed);
  });

  test('anyone may claim for a holder, and the rent goes to the holder, never the caller', async () => {
    await send(p.shares.connect(operator).depositRent(7_000n));
    const owed = await p.shares.withdrawableRentOf(carol.address);
    assert.ok(owed > 0n);
    const carolBefore = await p.payment.balanceOf(carol.address);
    const callerBefore = await p.payment.balanceOf(operator.address);
    const receipt = await send(p.shares.connect(operator).claimRentFor(carol.address));
    assert.equal((await p.payment.balanceOf(carol.address)) - carolBefore, owed);
    assert.equal(await p.payment.balanceOf(operator.address), callerBefore);
    const claimed = receipt.logs.map((l) => p.shares.interface.parseLog(l)).find((e) => e?.name === 'RentClaimed');
    assert.equal(claimed.args.holder, carol.address);
    assert.equal(claimed.args.amount, owed);
    // Nothing left: a second claim for her pays nothing; an unverified holder is refused.
    assert.equal(await p.shares.connect(operator).claimRentFor.staticCall(carol.address), 0n);
    await send(p.registry.connect(operator).deleteIdentity(carol.address));
    await expectRevert(p.shares.connect(operator).claimRentFor(carol.address), 'RentClaimerNotVerified');
    await send(p.registry.connect(operator).registerIdentity(carol.address));
  });
});

describe('PlatformTimelock as the only admin', () => {
  let p;
  let deployer, adminKey, operator, treasury, outsider, newAgent;
  before(async () => {
    [deployer, adminKey, operator, treasury, , , , outsider, newAgent] = accounts;
    p = await deployPlatform();
  });

  test('DEFAULT_ADMIN_ROLE is held by the timelock only, on every contract', async () => {
    const timelock = await p.timelock.getAddress();
    for (const [name, c] of Object.entries({ registry: p.registry, payment: p.payment, deed: p.deed, shares: p.shares })) {
      const grants = await c.queryFilter(c.filters.RoleGranted(DEFAULT_ADMIN_ROLE));
      assert.deepEqual(grants.map((g) => g.args.account), [timelock], `${name}: admin grants`);
      for (const key of [deployer, adminKey, operator, treasury]) {
        assert.equal(await c.hasRole(DEFAULT_ADMIN_ROLE, key.address), false, `${name}: ${key.address} is admin`);
      }
    }
    // The timelock administers itself; the admin key only proposes, executes and cancels.
    assert.equal(await p.timelock.hasRole(DEFAULT_ADMIN_ROLE, timelock), true);
    assert.equal(await p.timelock.hasRole(DEFAULT_ADMIN_ROLE, adminKey.address), false);
    assert.equal(await p.timelock.hasRole(DEFAULT_ADMIN_ROLE, deployer.address), false);
    assert.equal(await p.timelock.hasRole(role('PROPOSER_ROLE'), adminKey.address), true);
    assert.equal(await p.timelock.hasRole(role('EXECUTOR_ROLE'), adminKey.address), true);
    assert.equal(await p.timelock.getMinDelay(), BigInt(MIN_DELAY));
  });

  test('a role is granted only through a scheduled, delayed operation', async () => {
    const AGENT_ROLE = role('AGENT_ROLE');
    const target = await p.registry.getAddress();
    const args = await expectRevert(p.registry.connect(adminKey).grantRole(AGENT_ROLE, newAgent.address),
      'AccessControlUnauthorizedAccount');
    assert.deepEqual(args, [adminKey.address, DEFAULT_ADMIN_ROLE]);

    const data = p.registry.interface.encodeFunctionData('grantRole', [AGENT_ROLE, newAgent.address]);
    const salt = ethers.id('grant AGENT_ROLE to a second operator');
    const op = [target, 0n, data, ethers.ZeroHash, salt];
    await expectRevert(p.timelock.connect(outsider).schedule(...op, MIN_DELAY), 'AccessControlUnauthorizedAccount');
    await expectRevert(p.timelock.connect(adminKey).schedule(...op, MIN_DELAY - 1), 'TimelockInsufficientDelay');
    const scheduled = await send(p.timelock.connect(adminKey).schedule(...op, MIN_DELAY));
    assert.equal(events(scheduled, p.timelock, 'CallScheduled').length, 1);

    await expectRevert(p.timelock.connect(adminKey).execute(...op), 'TimelockUnexpectedOperationState');
    assert.equal(await p.registry.hasRole(AGENT_ROLE, newAgent.address), false);

    await provider.send('evm_increaseTime', [MIN_DELAY]);
    await provider.send('evm_mine', []);
    const executed = await send(p.timelock.connect(adminKey).execute(...op));
    const [granted] = events(executed, p.registry, 'RoleGranted');
    assert.deepEqual([granted.role, granted.account, granted.sender], [AGENT_ROLE, newAgent.address, await p.timelock.getAddress()]);
    assert.equal(await p.registry.hasRole(AGENT_ROLE, newAgent.address), true);
    await send(p.registry.connect(newAgent).registerIdentity(outsider.address));
    assert.equal(await p.registry.isVerified(outsider.address), true);
  });
});

describe('reproducible build', () => {
  test('node compile.mjs --check: the committed artifacts match a fresh compile', async () => {
    const { code, signal, output } = await checkRun;
    assert.equal(signal, null, `compile.mjs --check was killed:\n${output}`);
    assert.equal(code, 0, `compile.mjs --check failed:\n${output}`);
  });
});
