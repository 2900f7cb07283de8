'use strict';

const express = require('express');
const os = require('os');

const router = express.Router();

router.get('/health', (req, res) => {
  res.json({
    status: 'ok',
    uptime: process.uptime(),
    load: os.loadavg(),
  });
});

router.get('/version', (req, res) => {
  res.json({ version: process.env.APP_VERSION || 'dev' });
});

module.exports = router;
