package chat.gateway;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The packages of chat-gateway depend on each other in one direction only: {@code node} (the
 * wiring, and the bus addresses that name this node) on top; {@code http} uses {@code ws};
 * the transports ({@code tcp}, {@code ws}) and {@code handler} sit on {@code session};
 * {@code handler} tells presence through {@code report}; {@code session} calls services
 * through {@code bus}; everything may use the root ({@code GatewayConfig},
 * {@code GatewayMetrics}, {@code CloseReason}, {@code TlsOptions}), which uses none of them.
 * No exceptions.
 */
class ArchitectureTest {

  private static final JavaClasses MAIN = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("chat.gateway");

  @Test
  void packagesHaveNoCycles() {
    slices().matching("chat.(**)").should().beFreeOfCycles().check(MAIN);
  }
}
