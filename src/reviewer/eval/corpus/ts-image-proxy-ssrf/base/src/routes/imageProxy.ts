import { Router } from "express";

export const router = Router();

const CACHE_SECONDS = 3600;

router.get("/avatar/default.png", (_req, res) => {
  res.set("Cache-Control", `public, max-age=${CACHE_SECONDS}`);
  res.sendFile("default-avatar.png", { root: "static" });
});

export function avatarUrl(userId: string): string {
  return `/avatar/${encodeURIComponent(userId)}.png`;
}
