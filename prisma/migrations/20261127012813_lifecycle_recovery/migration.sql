-- AlterTable
ALTER TABLE "Generation" ADD COLUMN     "resultUrls" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "upstreamCompletedAt" TIMESTAMP(3),
ADD COLUMN     "webhookEvents" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "WorkerPool" (
    "id" TEXT NOT NULL,
    "backendPid" INTEGER NOT NULL,
    "backendStart" TIMESTAMPTZ(6) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WorkerPool_pkey" PRIMARY KEY ("id")
);
