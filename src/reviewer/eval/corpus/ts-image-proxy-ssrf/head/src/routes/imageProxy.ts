import { Router } from "express";

export const router = Router();

const CACHE_SECONDS = 3600;

router.get("/avatar/default.png", (_req, res) => {
  res.set("Cache-Control", `public, max-age=${CACHE_SECONDS}`);
  res.sendFile("default-avatar.png", { root: "static" });
});

router.get("/image-proxy", async (req, res) => {
  const target = String(req.query.url ?? "");
  if (!target) {
    res.status(400).send("url is required");
    return;
  }
  const upstream = await fetch(target, { redirect: "follow" });
  res.status(upstream.status);
  res.set("Content-Type", upstream.headers.get("content-type") ?? "application/octet-stream");
  res.set("Cache-Control", `public, max-age=${CACHE_SECONDS}`);
  res.send(Buffer.from(await upstream.arrayBuffer()));
});

export function avatarUrl(userId: string): string {
  return `/avatar/${encodeURIComponent(userId)}.png`;
}
