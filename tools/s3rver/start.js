#!/usr/bin/env node
// s3rver (pinned in package.json) for the blob store tests, with the checks it lacks.
//
// s3rver 3.7 verifies only Signature V2: for a V4 request it checks that the access key exists
// and that x-amz-content-sha256 is well formed, but never computes the signature ("Signature
// version 4 calculation is unimplemented"), so a wrong secret key passes, and so does a request
// without Authorization. Real S3 refuses both, and a body whose SHA-256 is not the
// x-amz-content-sha256 it was signed with. This script checks all three, as S3 does, before
// s3rver sees the request, so that the tests catch a client that signs wrongly. It also mends
// two bugs of s3rver's file store that S3 does not have: a PUT is answered before the object's
// file is fully written (a GET right after may read part of it), and "Range: bytes=0-0" is
// answered with the whole object (end 0 is taken for "no end").
//
//   node start.js --directory DIR --address 127.0.0.1 --port PORT [--bucket NAME]...
// Prints "s3rver: listening on http://ADDRESS:PORT" once the buckets exist and it listens.
// Credentials: s3rver's built-in account, access key S3RVER, secret S3RVER.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { Readable } = require('stream');
const S3rver = require('s3rver');
const AWSAccount = require('s3rver/lib/models/account');
const S3Error = require('s3rver/lib/models/error');
const FilesystemStore = require('s3rver/lib/stores/filesystem');

const EMPTY_SHA256 = crypto.createHash('sha256').update('').digest('hex');
const MAX_BODY = 64 * 1024 * 1024;

function parseArgs(argv) {
  const out = { buckets: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (value === undefined) {
      throw new Error(`missing value for ${name}`);
    }
    if (name === '--directory') out.directory = value;
    else if (name === '--address') out.address = value;
    else if (name === '--port') out.port = Number(value);
    else if (name === '--bucket') out.buckets.push(value);
    else throw new Error(`unknown option ${name}`);
  }
  if (!out.directory || !out.address || !out.port) {
    throw new Error(
      'usage: start.js --directory DIR --address ADDR --port PORT [--bucket NAME]...',
    );
  }
  return out;
}

const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();
const sha256 = data => crypto.createHash('sha256').update(data).digest('hex');

// An S3Error with the status S3 gives it (s3rver's table lacks some codes and answers 500).
function s3Error(code, status, message, detail) {
  const err = new S3Error(code, message, detail);
  err.status = status;
  err.expose = true;
  return err;
}

function mismatch(detail) {
  return new S3Error(
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. ' +
      'Check your key and signing method.',
    detail,
  );
}

// Throws the S3Error that S3 would answer, or returns the signed payload hash.
function checkSignature(req) {
  const auth = req.headers['authorization'];
  if (!auth) {
    throw new S3Error('AccessDenied', 'Access Denied (this bucket needs signed requests)');
  }
  const m = new RegExp(
    '^AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/([^/]+)/aws4_request, ?' +
      'SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$',
  ).exec(auth);
  if (!m) {
    throw new S3Error('AuthorizationHeaderMalformed', 'The authorization header is malformed.');
  }
  const [, accessKey, day, region, service, signedHeaders, signature] = m;
  const account = AWSAccount.registry.get(accessKey);
  if (!account) {
    throw new S3Error(
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
      { AWSAccessKeyId: accessKey },
    );
  }
  const amzDate = req.headers['x-amz-date'] || '';
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (!payloadHash) {
    throw new S3Error(
      'InvalidRequest',
      'Missing required header for this request: x-amz-content-sha256',
    );
  }
  if (!amzDate.startsWith(day)) {
    throw mismatch({ Reason: 'the credential date is not the day of X-Amz-Date' });
  }
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-content-sha256')) {
    throw mismatch({ Reason: 'host and x-amz-content-sha256 must be signed' });
  }
  let canonicalHeaders = '';
  for (const name of names) {
    const value = req.headers[name];
    if (value === undefined) {
      // curl 7.88 signs an empty header meant to remove one ("Expect:") but does not send it.
      throw mismatch({ Reason: `signed header ${name} is not in the request` });
    }
    canonicalHeaders += `${name}:${String(value).trim().replace(/\s+/g, ' ')}\n`;
  }
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? '' : req.url.slice(q + 1);
  const canonicalQuery = query
    .split('&')
    .filter(Boolean)
    .map(p => (p.includes('=') ? p : `${p}=`))
    .sort()
    .join('&');
  const canonicalRequest = [
    req.method,
    path,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key = `AWS4${account.accessKeys.get(accessKey)}`;
  for (const part of [day, region, service, 'aws4_request']) {
    key = hmac(key, part);
  }
  const expected = hmac(key, stringToSign);
  if (!crypto.timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
    throw mismatch({ AWSAccessKeyId: accessKey, StringToSign: stringToSign });
  }
  return payloadHash;
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) {
      throw s3Error('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

// Koa middleware: the signature, then the payload against x-amz-content-sha256. A body is read
// whole, checked, and handed on to s3rver as a fresh stream.
function verifySigV4() {
  return async (ctx, next) => {
    const payloadHash = checkSignature(ctx.req);
    const hasBody = Number(ctx.get('content-length') || 0) > 0 || ctx.get('transfer-encoding');
    if (hasBody) {
      const body = await readBody(ctx.req);
      if (payloadHash !== 'UNSIGNED-PAYLOAD' && sha256(body) !== payloadHash) {
        throw s3Error(
          'XAmzContentSHA256Mismatch',
          400,
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
          { ClientComputedContentSHA256: payloadHash, S3ComputedContentSHA256: sha256(body) },
        );
      }
      ctx.req = Readable.from([body]);
    } else if (payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash !== EMPTY_SHA256) {
      throw s3Error(
        'XAmzContentSHA256Mismatch',
        400,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        { ClientComputedContentSHA256: payloadHash, S3ComputedContentSHA256: EMPTY_SHA256 },
      );
    }
    return next();
  };
}

// The object's file written whole (to a temporary name, then renamed) before the PUT answers.
FilesystemStore.prototype.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
  const body = Buffer.isBuffer(object.content) ? object.content : await readBody(object.content);
  const tmp = `${objectPath}.${crypto.randomBytes(8).toString('hex')}.tmp`;
  await fs.promises.writeFile(tmp, body);
  await fs.promises.rename(tmp, objectPath);
  const md5 = crypto.createHash('md5').update(body).digest('hex');
  await this.putMetadata(object.bucket, object.key, object.metadata, md5);
  return { size: body.length, md5 };
};

// "bytes=N-0" (in practice 0-0): the one byte asked for, not the whole object.
const getObject = FilesystemStore.prototype.getObject;
FilesystemStore.prototype.getObject = async function getObjectMended(bucket, key, options) {
  const object = await getObject.call(this, bucket, key, options);
  const oneByte = options && options.end === 0 && object && object.range;
  if (oneByte && object.content && object.range.start === 0) {
    object.content.destroy();
    object.range.end = 0;
    object.content = fs.createReadStream(
      this.getResourcePath(bucket, key, 'object'),
      object.range,
    );
  }
  return object;
};

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const server = new S3rver({
    directory: args.directory,
    address: args.address,
    port: args.port,
    silent: false,
    vhostBuckets: false,
    configureBuckets: args.buckets.map(name => ({ name, configs: [] })),
  });
  // After s3rver's logger (so refusals are logged), before its routes. Koa composes the
  // middleware when it starts listening.
  server.middleware.splice(1, 0, verifySigV4());
  const { address, port } = await server.run();
  console.log(`s3rver: listening on http://${address}:${port}`);
  // Test data needs no orderly shutdown, and close() would wait for kept-alive connections.
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
}

main().catch(err => {
  console.error(`s3rver: ${err.stack || err}`);
  process.exit(1);
});
