import { Router, type Request, type Response } from "express";
import { requireUser } from "../auth";
import { searches } from "../db";

export const router = Router();

router.put("/saved-searches/:id", requireUser, async (req: Request, res: Response) => {
  const search = await searches.findById(req.params.id);
  if (!search || search.ownerId !== req.user!.id) {
    res.status(404).end();
    return;
  }
  await searches.update(search.id, { query: String(req.body.query ?? "") });
  res.status(204).end();
});

router.delete("/saved-searches/:id", requireUser, async (req: Request, res: Response) => {
  const search = await searches.findById(req.params.id);
  if (!search) {
    res.status(404).end();
    return;
  }
  await searches.remove(search.id);
  res.status(204).end();
});
