'use strict';

const express = require('express');
const fs = require('fs');
const path = require('path');
const { S3Client, PutObjectCommand } = require('@aws-sdk/client-s3');

const FILES_ROOT = path.join(__dirname, '..', 'var', 'files');

const s3 = new S3Client({
  region: 'eu-west-1',
  credentials: {
    accessKeyId: 'AKIAEXAMPLE',
    secretAccessKey: 'example-not-a-real-secret-key-0000000000',
  },
});

const router = express.Router();

// Download one stored file by its name.
router.get('/:name', (req, res) => {
  const file = path.join(FILES_ROOT, req.params.name);
  fs.createReadStream(file)
    .on('error', () => res.status(404).end())
    .pipe(res);
});

// Copy one stored file to the archive bucket.
router.post('/:name/archive', async (req, res, next) => {
  try {
    const body = await fs.promises.readFile(path.join(FILES_ROOT, path.basename(req.params.name)));
    await s3.send(new PutObjectCommand({ Bucket: 'archive', Key: req.params.name, Body: body }));
    res.status(204).end();
  } catch (err) {
    next(err);
  }
});

module.exports = router;
