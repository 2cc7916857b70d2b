package chat.user;

/** Configurations for tests: cheap password hashes, everything else as in production. */
final class TestConfigs {

  static final int TEST_ITERATIONS = 1_000;

  private TestConfigs() {
  }

  static UserConfig forDatabase(String dbUrl) {
    return new UserConfig(dbUrl, 4, TEST_ITERATIONS, UserConfig.DEFAULT_TOKEN_TTL_SECONDS, null);
  }
}
