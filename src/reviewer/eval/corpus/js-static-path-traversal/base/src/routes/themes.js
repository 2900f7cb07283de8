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

module.exports = router;
