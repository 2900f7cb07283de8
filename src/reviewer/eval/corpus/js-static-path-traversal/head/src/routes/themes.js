'use strict';

const express = require('express');
const fs = require('fs/promises');
const path = require('path');

const THEMES_DIR = path.resolve(__dirname, '..', '..', 'themes');
const router = express.Router();

router.get('/themes', async (req, res, next) => {
  try {
    const entries = await fs.readdir(THEMES_DIR, { withFileTypes: true });
    res.json(entries.filter((e) => e.isDirectory()).map((e) => e.name));
  } catch (err) {
    next(err);
  }
});

router.get('/themes/*', async (req, res, next) => {
  const file = path.join(THEMES_DIR, decodeURIComponent(req.params[0]));
  try {
    await fs.access(file);
    res.sendFile(file);
  } catch (err) {
    res.status(404).end();
  }
});

module.exports = router;
