export default function BacktestComparePage(_p: Record<string, unknown>) {
  return null;
}
